"""ID numbers encrypted at rest (issue 9): ``id_number`` becomes ``id_cipher`` (AES-GCM) with
the blind indexes ``id_digest`` (unique) and ``id_last6_digest``.

Existing rows are encrypted here, which needs the field key at migrate time
(``YIBAO_FIELD_KEY`` or the key file, see yibao.registry.idcrypto): with persons in the
table and no key the migration stops before changing anything and says how to make one.
A fresh database has no persons and needs no key to migrate. Going back decrypts them into
the plain column again (with the same key).
"""

from django.db import migrations, models


def encrypt_existing(apps, schema_editor):
    from yibao.registry.idcrypto import encrypt_plain_column

    encrypt_plain_column(apps.get_model("registry", "Person"), using=schema_editor.connection.alias)


def decrypt_back(apps, schema_editor):
    from yibao.registry.idcrypto import decrypt_to_plain_column

    decrypt_to_plain_column(
        apps.get_model("registry", "Person"), using=schema_editor.connection.alias
    )


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_no_default_ordering"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="id_cipher",
            field=models.BinaryField(null=True, verbose_name="证件号码密文"),
        ),
        migrations.AddField(
            model_name="person",
            name="id_digest",
            field=models.CharField(max_length=32, null=True, verbose_name="证件号码索引"),
        ),
        migrations.AddField(
            model_name="person",
            name="id_last6_digest",
            field=models.CharField(max_length=32, null=True, verbose_name="证件号码后六位索引"),
        ),
        migrations.AlterField(
            model_name="person",
            name="id_number",
            field=models.CharField(max_length=32, null=True, verbose_name="证件号码"),
        ),
        migrations.RunPython(encrypt_existing, decrypt_back, elidable=False),
        migrations.RemoveField(model_name="person", name="id_number"),
        migrations.AlterField(
            model_name="person",
            name="id_cipher",
            field=models.BinaryField(verbose_name="证件号码密文"),
        ),
        migrations.AlterField(
            model_name="person",
            name="id_digest",
            field=models.CharField(max_length=32, unique=True, verbose_name="证件号码索引"),
        ),
        migrations.AlterField(
            model_name="person",
            name="id_last6_digest",
            field=models.CharField(db_index=True, max_length=32, verbose_name="证件号码后六位索引"),
        ),
    ]
