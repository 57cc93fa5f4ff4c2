"""Content types now live in public only (next to auth's permissions, which Wagtail's page
permissions in each tenant refer to). Schemas made before kept a copy of their own that
would shadow public's on the search path: it goes, before Wagtail's tables are made."""

from django.db import migrations


def drop_tenant_copy(apps, schema_editor):
    schema = schema_editor.connection.schema_name
    if schema == "public":
        return
    # Qualified by schema: an unqualified name would find public's table when the tenant has none.
    schema_editor.execute(f'DROP TABLE IF EXISTS "{schema}"."django_content_type" CASCADE')


class Migration(migrations.Migration):
    dependencies = [("org", "0001_initial")]
    run_before = [("wagtailcore", "0001_initial"), ("taggit", "0001_initial")]
    operations = [migrations.RunPython(drop_tenant_copy, migrations.RunPython.noop, elidable=True)]
