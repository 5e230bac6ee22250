"""ID numbers encrypted at rest (issue 9): ``id_number`` becomes ``id_cipher`` (AES-GCM) with
the blind indexes ``id_digest`` (unique) and ``id_last6_digest``.

Existing rows are encrypted here, which needs the field key at migrate time
(``YIBAO_FIELD_KEY`` or the key file, see yibao.registry.idcrypto): with persons in the
table and no key the migration stops before changing anything and says how to make one.
A fresh database has no persons and needs no key to migrate. Going back decrypts them into
the plain column again (with the same key).
"""

from django.db import migrations, models

CHUNK = 2000


def _key():
    from yibao.registry.idcrypto import FieldKeyMissing, current_key

    try:
        return current_key()
    except FieldKeyMissing as error:
        raise FieldKeyMissing(
            f"数据库中已有参保人，加密其证件号码需要字段加密密钥：{error}。"
            "请先设置 YIBAO_FIELD_KEY_FILE（或 YIBAO_FIELD_KEY），或运行 yibao keys new 生成"
            "默认位置的密钥文件，妥善备份后再运行 yibao migrate。"
        ) from None


def encrypt_existing(apps, schema_editor):
    from yibao.registry.idcrypto import id_number_fields

    Person = apps.get_model("registry", "Person")
    pending = Person.objects.using(schema_editor.connection.alias).order_by("pk")
    if not pending.exists():
        return
    key = _key()
    last = 0
    while True:
        chunk = list(pending.filter(pk__gt=last).only("pk", "id_number")[:CHUNK])
        if not chunk:
            return
        for person in chunk:
            for name, value in id_number_fields(person.id_number, key=key).items():
                setattr(person, name, value)
        Person.objects.using(schema_editor.connection.alias).bulk_update(
            chunk, ["id_cipher", "id_digest", "id_last6_digest"]
        )
        last = chunk[-1].pk


def decrypt_back(apps, schema_editor):
    from yibao.registry.idcrypto import id_number_decrypt

    Person = apps.get_model("registry", "Person")
    people = Person.objects.using(schema_editor.connection.alias).order_by("pk")
    if not people.exists():
        return
    key = _key()
    changed = []
    for person in people.only("pk", "id_cipher", "id_digest").iterator(chunk_size=CHUNK):
        person.id_number = id_number_decrypt(person.id_cipher, person.id_digest, key=key)
        changed.append(person)
    Person.objects.using(schema_editor.connection.alias).bulk_update(
        changed, ["id_number"], batch_size=CHUNK
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
