"""Cases are updated by every action and by the sweep: room left on each page lets
PostgreSQL update a row in place (a HOT update) without touching every index."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [
        migrations.RunSQL("ALTER TABLE cases_case SET (fillfactor = 80)",
                          "ALTER TABLE cases_case RESET (fillfactor)"),
    ]
