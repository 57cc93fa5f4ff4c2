"""Cases near a point (a school's zone): a bounding box on this index, then the exact
distance on the few rows it finds. The index only: the model is unchanged, so it is made
in SQL (a case's position never changes after the report, so updates stay HOT)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_case_client_key")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS case_lat_lng ON cases_case (latitude, longitude) WHERE latitude IS NOT NULL",
            "DROP INDEX IF EXISTS case_lat_lng"),
    ]
