"""The PostgreSQL index becomes partitioned by month and narrow.

A search over a million cases must not visit every match of a common word: with
monthly partitions it reads the newest months first and stops at the count limit
(``backends.postgres``). Rows lose the case's text (read from the case for the hits
shown) and keep a stripped vector for matching and a small weighted one for ranking.

Django has no partitioned tables, so the table is made by SQL and the model is
unmanaged. Partitions are created by the backend as months arrive; the template
schema holds only the parent, which onboarding clones. Existing documents are gone:
run ``civicgrid search reindex`` after migrating (the release notes say so).
"""

import django.contrib.postgres.fields
import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

CREATE = """
CREATE TABLE search_casedocument (
    -- No foreign key to cases_case: a partition made for a new month would take a lock on
    -- the case table (to add its copy of the key) inside the indexer's transaction, and
    -- deadlock with an action holding a case. Documents are written only for cases that
    -- exist (bulk joins them), and a reindex removes any whose case was deleted.
    case_id bigint NOT NULL,
    reported_at timestamp with time zone NOT NULL,
    vector tsvector NOT NULL,
    head tsvector NOT NULL,
    status varchar(20) NOT NULL,
    category_codes varchar(40)[] NOT NULL,
    source varchar(20) NOT NULL,
    urgency varchar(10) NOT NULL,
    org_path varchar(255) NOT NULL,
    department_id bigint NULL,
    held_departments bigint[] NOT NULL,
    reporter_id bigint NULL,
    clock_due timestamp with time zone NOT NULL,
    clock_warn timestamp with time zone NULL,
    clock_stopped_at timestamp with time zone NULL,
    is_open boolean NOT NULL,
    indexed_at timestamp with time zone NOT NULL,
    PRIMARY KEY (case_id, reported_at)
) PARTITION BY RANGE (reported_at);
CREATE INDEX search_case_vector ON search_casedocument USING gin (vector);
-- Every case waits to be indexed again: the old documents go with the old table.
INSERT INTO search_indexqueue (case_id, queued_at) SELECT id, now() FROM cases_case ON CONFLICT DO NOTHING;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0003_case_event_department"),
        ("search", "0001_initial"),
    ]

    operations = [
        migrations.DeleteModel(name="CaseDocument"),
        migrations.RunSQL(CREATE, reverse_sql="DROP TABLE search_casedocument"),
        migrations.CreateModel(
            name="CaseDocument",
            fields=[
                ("case", models.OneToOneField(on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True,
                                              related_name="search_document", serialize=False, to="cases.case")),
                ("reported_at", models.DateTimeField()),
                ("vector", django.contrib.postgres.search.SearchVectorField()),
                ("head", django.contrib.postgres.search.SearchVectorField()),
                ("status", models.CharField(max_length=20)),
                ("category_codes", django.contrib.postgres.fields.ArrayField(
                    base_field=models.CharField(max_length=40), default=list, size=None)),
                ("source", models.CharField(max_length=20)),
                ("urgency", models.CharField(max_length=10)),
                ("org_path", models.CharField(blank=True, max_length=255)),
                ("department_id", models.BigIntegerField(null=True)),
                ("held_departments", django.contrib.postgres.fields.ArrayField(
                    base_field=models.BigIntegerField(), default=list, size=None)),
                ("reporter_id", models.BigIntegerField(null=True)),
                ("clock_due", models.DateTimeField()),
                ("clock_warn", models.DateTimeField(null=True)),
                ("clock_stopped_at", models.DateTimeField(null=True)),
                ("is_open", models.BooleanField()),
                ("indexed_at", models.DateTimeField()),
            ],
            options={"db_table": "search_casedocument", "managed": False},
        ),
    ]
