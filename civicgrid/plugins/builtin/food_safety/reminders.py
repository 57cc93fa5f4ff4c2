"""The licence-expiry reminders: a periodic job, set-based.

One statement finds the licences due a reminder -- expiring within ``EXPIRING_DAYS``
days (and not yet expired), or expired (past their last valid day) -- and inserts one
``Reminder`` row per licence, threshold and expiry date with ``ON CONFLICT DO NOTHING``.
The same statement stores a notification for each row it actually inserted:

- to each active grid worker whose grid is the business's grid, one per licence;
- to the market-supervision department's staff (D-SAMR scope), one per threshold per
  run, counting the licences and linking to the filtered list (a first import of a
  county's register would otherwise bury them under thousands of messages).

"Once" is the unique constraint: a second run finds nothing new (``NOT EXISTS`` skips the
reminded rows cheaply), and two runs at the same moment conflict on the unique key: the
second waits for the first to commit, then inserts nothing. The stored notifications'
ids go out in one outbox event (``notifications.stored``), as the case sweep's do, so open
consoles pop them up and channels reach whoever leaves them unread.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tenants.utils import get_public_schema_name

from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.audit.actions import record
from civicgrid.platform.notifications.models import Notification, OutboxEvent
from civicgrid.platform.notifications.outbox import request_relay
from civicgrid.platform.org.models import Department

from .categories import DEPARTMENT
from .models import EXPIRING_DAYS, FoodBusiness, Licence, LicenceStatus, Reminder

logger = logging.getLogger(__name__)
LOCK_NAMESPACE = 0x464F4F44  # "FOOD"

REMIND_SQL = """
WITH due AS (
    SELECT l.id AS licence_id, l.expires_on,
           CASE WHEN l.expires_on < %(today)s THEN 'expired' ELSE 'expiring' END AS threshold
    FROM {licence} l
    WHERE l.expires_on <= %(soon)s
      AND NOT EXISTS (SELECT 1 FROM {reminder} r
                      WHERE r.licence_id = l.id AND r.expires_on = l.expires_on
                        AND r.threshold = CASE WHEN l.expires_on < %(today)s THEN 'expired' ELSE 'expiring' END)
    ORDER BY l.id
), inserted AS (
    INSERT INTO {reminder} (licence_id, threshold, expires_on, created_at)
    SELECT licence_id, threshold, expires_on, %(now)s FROM due
    ON CONFLICT ON CONSTRAINT food_reminded_once DO NOTHING
    RETURNING licence_id, threshold, expires_on
), sent AS (
    INSERT INTO {notification} (recipient_id, topic, title, body, url, case_id, created_at, read_at)
    SELECT s.user_id, 'food_safety.licence',
           left(replace(replace(CASE WHEN i.threshold = 'expired' THEN %(expired_title)s
                                     ELSE %(expiring_title)s END,
                                '%%(name)s', b.name), '%%(date)s', to_char(i.expires_on, 'YYYY-MM-DD')), 200),
           '', '/p/food_safety/businesses/' || b.id || '/', NULL, %(now)s, NULL
    FROM inserted i
    JOIN {licence} l ON l.id = i.licence_id
    JOIN {business} b ON b.id = l.business_id
    JOIN {staff} s ON s.is_active AND s.role = %(grid_worker)s AND s.scope_org_unit_id = b.grid_id
    RETURNING id
)
SELECT (SELECT count(*) FROM inserted WHERE threshold = 'expiring'),
       (SELECT count(*) FROM inserted WHERE threshold = 'expired'),
       (SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM sent)
"""


def remind_expiring_licences(*, today: date | None = None) -> int:
    """Remind each licence once per threshold; returns how many reminders were made (0 on a
    second run). Runs in the current tenant's schema."""
    if connection.schema_name == get_public_schema_name():
        raise RuntimeError("the licence reminders run in a tenant schema, not in public")
    today = today or timezone.localdate()
    now = timezone.now()
    schema = connection.schema_name
    with translation.override(settings.LANGUAGE_CODE):  # stored as text: the installation's language
        params = {
            "today": today, "soon": today + timedelta(days=EXPIRING_DAYS), "now": now,
            "grid_worker": str(StaffRole.GRID_WORKER),
            "expiring_title": _("Food licence of %(name)s expires on %(date)s: remind them to renew it"),
            "expired_title": _("Food licence of %(name)s expired on %(date)s"),
        }
    sql = REMIND_SQL.format(licence=Licence._meta.db_table, reminder=Reminder._meta.db_table,
                            notification=Notification._meta.db_table, business=FoodBusiness._meta.db_table,
                            staff=StaffProfile._meta.db_table)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Runs of one schema take turns (a second waits, then finds nothing new); the
            # unique constraint alone would keep "once", this only spares the wasted work.
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [LOCK_NAMESPACE, schema])
            cursor.execute(sql, params)
            expiring, expired, sent = cursor.fetchone()
        sent = list(sent or [])
        if expiring or expired:
            sent += _tell_market_supervision(expiring, expired, now)
            record(action="food_safety.licence_reminders", actor=None, expiring=expiring, expired=expired,
                   notifications=len(sent), day=today.isoformat())
        if sent:
            OutboxEvent.objects.create(topic="notifications.stored",
                                       payload={"schema": schema, "notifications": sent})
            transaction.on_commit(lambda: request_relay(schema))
    if expiring or expired:
        logger.info("food licence reminders in %s: %d expiring, %d expired, %d notifications",
                    schema, expiring, expired, len(sent))
    return expiring + expired


def _tell_market_supervision(expiring: int, expired: int, now) -> list[int]:
    department = Department.objects.filter(code=DEPARTMENT).first()
    if department is None:
        return []
    users = set(StaffProfile.objects.filter(is_active=True, scope_department=department)
                .values_list("user_id", flat=True))
    rows = []
    with translation.override(settings.LANGUAGE_CODE):
        for count, status, text in (
                (expiring, LicenceStatus.EXPIRING, ngettext("%(count)d food licence expires within 30 days",
                                                            "%(count)d food licences expire within 30 days",
                                                            expiring)),
                (expired, LicenceStatus.EXPIRED, ngettext("%(count)d food licence has expired",
                                                          "%(count)d food licences have expired", expired))):
            if count:
                rows += [Notification(recipient_id=user, topic="food_safety.licence",
                                      title=(text % {"count": count})[:200],
                                      url=f"/p/food_safety/?status={status.value}", created_at=now)
                         for user in users]
    return [row.pk for row in Notification.objects.bulk_create(rows)]
