"""Drop PostgreSQL's ``*_like`` indexes on the registry's looked-up-by-equality columns.

For an indexed ``CharField`` Django also creates a ``varchar_pattern_ops`` index, which only
serves ``LIKE 'abc%'`` (``startswith``). No query searches these columns by pattern: the two
blind indexes are digests found by equality, a household number by equality or ``IN``, and
the name initials by ``contains`` (``LIKE '% wxm%'``, which no btree index serves). Each
cost a write per person (a fifth of the server's work in an import of 100,000 persons).
Nothing to do on SQLite, which has no such indexes.
"""

from django.db import migrations

# (model, field) whose pattern index goes.
PATTERN_INDEXED = (
    ("person", "id_digest"),
    ("person", "id_last6_digest"),
    ("person", "name_initials"),
    ("household", "number"),
)


def _indexes(apps, schema_editor):
    for model_name, field_name in PATTERN_INDEXED:
        model = apps.get_model("registry", model_name)
        field = model._meta.get_field(field_name)
        name = schema_editor._create_index_name(
            model._meta.db_table, [field.column], suffix="_like"
        )
        yield model, field, name


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _, _, name in _indexes(apps, schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, field, _ in _indexes(apps, schema_editor):
        schema_editor.execute(schema_editor._create_like_index_sql(model, field))


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0007_person_index_with_id"),
    ]

    operations = [migrations.RunPython(drop, create)]
