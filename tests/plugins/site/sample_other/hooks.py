from django.db import connection

from civicgrid.plugins import hookimpl

CALLS: list[str] = []


@hookimpl
def civicgrid_case_transitioned(event):
    CALLS.append(event.action)


@hookimpl
def civicgrid_case_closed(event):
    # A database error, the worst kind: without a savepoint of its own it would abort the
    # transaction every other plugin and the caller are writing in.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM a_table_nobody_made")
