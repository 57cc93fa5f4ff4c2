from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("sample_plugin", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="Hydrant",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(max_length=20, unique=True)),
                ("street", models.CharField(max_length=100)),
                ("grid_id", models.BigIntegerField()),
                ("checked_on", models.DateField(blank=True, null=True)),
            ],
        ),
    ]
