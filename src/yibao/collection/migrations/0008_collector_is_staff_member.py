"""A township office or an auditor is not a collector: the staff model is StaffMember, with
a role (STYLE.md, lesson 4). The rows, ids and foreign keys stay as they are."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("collection", "0007_enrollment_facts"),
        # Migrations that name the model by its earlier name run before the rename.
        ("funds", "0001_cash_limits_closes_receipts_tax"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel("Collector", "StaffMember"),
        migrations.AlterModelOptions(
            name="staffmember",
            options={"verbose_name": "工作人员", "verbose_name_plural": "工作人员"},
        ),
        migrations.AlterField(
            model_name="staffmember",
            name="user",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="staff",
                to=settings.AUTH_USER_MODEL,
                verbose_name="用户",
            ),
        ),
    ]
