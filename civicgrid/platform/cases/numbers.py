"""Tracking numbers people can read out on the phone: ``<county code>-<yyyymmdd>-<n>``."""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.utils import timezone

from .models import CaseSequence


def next_number(now: datetime) -> str:
    day = timezone.localdate(now)
    # One statement: concurrent reports on the same day each get their own n.
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {CaseSequence._meta.db_table} (day, last) VALUES (%s, 1)
            ON CONFLICT (day) DO UPDATE SET last = {CaseSequence._meta.db_table}.last + 1
            RETURNING last
        """, [day])
        n = cursor.fetchone()[0]
    prefix = getattr(getattr(connection, "tenant", None), "division_code", "") or "CG"
    return f"{prefix}-{day:%Y%m%d}-{n:05d}"
