"""ID numbers on the departments' lists encrypted at rest, as the persons' are (registry
0005): each entry's ``id_number`` becomes ``id_cipher`` with the blind indexes
``id_digest`` and ``id_last6_digest``. Existing entries are encrypted here, which needs
the field key at migrate time when there are any; going back decrypts them.
"""

from django.db import migrations, models

MODELS = ("identitylistentry", "personlistentry")


def encrypt_existing(apps, schema_editor):
    from yibao.registry.idcrypto import encrypt_plain_column

    for name in MODELS:
        encrypt_plain_column(apps.get_model("intake", name), using=schema_editor.connection.alias)


def decrypt_back(apps, schema_editor):
    from yibao.registry.idcrypto import decrypt_to_plain_column

    for name in MODELS:
        decrypt_to_plain_column(
            apps.get_model("intake", name), using=schema_editor.connection.alias
        )


def _added(model_name):
    """The three columns, empty at first (filled by encrypt_existing)."""
    return [
        migrations.AddField(
            model_name=model_name,
            name="id_cipher",
            field=models.BinaryField(null=True, verbose_name="证件号码密文"),
        ),
        migrations.AddField(
            model_name=model_name,
            name="id_digest",
            field=models.CharField(max_length=32, null=True, verbose_name="证件号码索引"),
        ),
        migrations.AddField(
            model_name=model_name,
            name="id_last6_digest",
            field=models.CharField(max_length=32, null=True, verbose_name="证件号码后六位索引"),
        ),
    ]


def _required(model_name):
    """The three columns as the model has them, once every row is filled."""
    return [
        migrations.AlterField(
            model_name=model_name,
            name="id_cipher",
            field=models.BinaryField(verbose_name="证件号码密文"),
        ),
        migrations.AlterField(
            model_name=model_name,
            name="id_digest",
            field=models.CharField(db_index=True, max_length=32, verbose_name="证件号码索引"),
        ),
        migrations.AlterField(
            model_name=model_name,
            name="id_last6_digest",
            field=models.CharField(max_length=32, verbose_name="证件号码后六位索引"),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0004_card_activations"),
        ("registry", "0005_person_id_number_encrypted"),
    ]

    operations = [
        *_added("identitylistentry"),
        *_added("personlistentry"),
        migrations.RunPython(encrypt_existing, decrypt_back, elidable=False),
        migrations.RemoveField(model_name="identitylistentry", name="id_number"),
        migrations.RemoveField(model_name="personlistentry", name="id_number"),
        *_required("identitylistentry"),
        *_required("personlistentry"),
    ]
