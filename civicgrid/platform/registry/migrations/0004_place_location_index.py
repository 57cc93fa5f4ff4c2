"""Places near a point (a school's zone): a bounding box on this index, then the exact
distance on the few rows it finds. The index only: the model is unchanged, so it is made
in SQL."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_household_visit")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS place_lat_lng ON registry_place (latitude, longitude) "
            "WHERE latitude IS NOT NULL",
            "DROP INDEX IF EXISTS place_lat_lng"),
    ]
