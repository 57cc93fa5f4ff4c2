"""Community sites benchmark: 100 community home sites in one county, read anonymously.

Run from the repository root with a PostgreSQL server and Redis available:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
    REDIS_URL=redis://127.0.0.1:6379/13 \
    .venv/bin/python bench/cms.py

All the work happens in a scratch database, ``civicgrid_bench_cms`` (BENCH_DB), dropped
at the end (BENCH_KEEP=1 keeps it, BENCH_REUSE=1 runs again on a kept one without the
setup). BENCH_SITES changes the number of sites (default 100), BENCH_REQUESTS the timed
requests per page kind (default 300). While tuning: BENCH_SQL=1 prints the SQL of one
request of each kind, BENCH_PROFILE=1 the functions that dominate the home page
(cProfile over its timed requests, which it slows down).

Not timed: migrating and onboarding the county (clone), one township with BENCH_SITES
communities below it (``create_org_unit``), a site for each (``cms.actions.create_site``:
page tree, Wagtail ``Site``, the host as a ``Domain`` of the tenant, groups, workflow)
filled with the demo's content (``cms.demo._fill``: three notices, four service guides,
a consultation, a disclosure), then one untimed request of every kind on every site
(Wagtail's site root paths in the cache, templates loaded, connection open).

Timed: server time of a request -- the whole Django stack (the tenant from the host,
then Wagtail's site, the page, its template) through ``django.test.Client`` in this
process, without a network or an HTTP server in front. Each kind of page is requested
BENCH_REQUESTS times, round-robin over the sites' hosts (``<slug>.shangcheng.localhost``),
anonymously:

* home    -- ``/``: the latest notices, the most used services, the links;
* guide   -- ``/services/<guide>/``: one service guide, the four of each site in turn;
* search  -- ``/services/?q=居住证``: the service index searching its guides (Wagtail's
             database backend, the query cut into words by jieba).

It also counts the SQL queries of one request of each kind: all of them, the ``SET
search_path`` django-tenants issues before each (TENANT_LIMIT_SET_CALLS is off on
purpose), and the content-type look-ups (django-tenants empties Django's content-type
cache whenever it switches schema, so on every request).

Goal: page p95 ≤ 50 ms with 100 sites in one tenant.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scratch import machine_line, onboarded_county, reusing, run_in_scratch_database, version_of  # noqa: E402

SITES = int(os.environ.get("BENCH_SITES", 100))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 300))
GOAL_P95_MS = 50.0
SEARCH = "居住证"
# Community names: a place word and a kind of word, 10 × 10 distinct names.
FIRST, SECOND = "清波湖滨紫阳小营望江南星凯旋采荷闸弄丁兰", "和平幸福新华东园西湖长青春晖金桥明月翠苑"


def main() -> int:
    return run_in_scratch_database("civicgrid_bench_cms", run)


def community_name(n: int) -> str:
    place = FIRST[2 * (n // 10 % 10):2 * (n // 10 % 10) + 2]
    kind = SECOND[2 * (n % 10):2 * (n % 10) + 2]
    return f"{place}{kind}{'' if n < 100 else n // 100}社区"


def set_up():
    """The county, a township with SITES communities, a filled site for each (not timed)."""
    from django_tenants.utils import tenant_context

    from civicgrid.cms.actions import create_site
    from civicgrid.cms.demo import _fill
    from civicgrid.platform.org.actions import create_org_unit

    county = onboarded_county()
    started = time.perf_counter()
    with tenant_context(county):
        township = create_org_unit(code="T01", name="清波街道", acting_user=None)
        for n in range(SITES):
            code = f"T01-C{n + 1:03d}"
            create_org_unit(code=code, name=community_name(n), parent=township, acting_user=None)
            _fill(create_site(community_code=code, slug=f"c{n + 1:03d}", acting_staff=None))
    print(f"setup   {SITES} community sites made and filled in {time.perf_counter() - started:.1f}s", flush=True)
    return county


def targets(county) -> list[tuple[str, str]]:
    """(host, path of one of its service guides) for every site, the guides in turn."""
    from django_tenants.utils import tenant_context

    from civicgrid.cms.models import CommunitySite, ServiceGuidePage

    with tenant_context(county):
        found = []
        for n, site in enumerate(CommunitySite.objects.select_related("site__root_page").order_by("slug")):
            home = site.site.root_page
            guides = list(ServiceGuidePage.objects.descendant_of(home).live().order_by("path"))
            guide = guides[n % len(guides)]
            found.append((site.host, quote(guide.url_path[len(home.url_path) - 1:])))
    return found


def nearest_rank(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(pct / 100 * len(ordered)), 1) - 1]


def run() -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    print(f"settings={os.environ['DJANGO_SETTINGS_MODULE']} database={connection.settings_dict['NAME']} "
          f"timing=in-process django.test.Client (server time, no HTTP server or network)", flush=True)
    if reusing():
        from civicgrid.tenants.models import Tenant

        county = Tenant.objects.get(schema_name="shangcheng")
    else:
        county = set_up()
    sites = targets(county)
    clients = {host: Client(HTTP_HOST=host) for host, _guide in sites}
    kinds = {
        "home page": lambda host, guide: clients[host].get("/"),
        "service guide": lambda host, guide: clients[host].get(guide),
        f"service search /services/?q={SEARCH}": lambda host, guide: clients[host].get("/services/", {"q": SEARCH}),
    }

    # Warm-up, and a look at what each kind answers (on every site: a wrong page is no figure).
    for label, get in kinds.items():
        for host, guide in sites:
            response = get(host, guide)
            body = response.content.decode()
            if response.status_code != 200 or (label.startswith("service search") and "办理居住证" not in body):
                raise SystemExit(f"{label} on {host}: {response.status_code}\n{body[:500]}")

    queries = {}
    for label, get in kinds.items():
        host, guide = sites[0]
        with CaptureQueriesContext(connection) as captured:
            get(host, guide)
        sqls = [query["sql"] for query in captured.captured_queries]
        queries[label] = (len(sqls), sum(sql.startswith("SET search_path") for sql in sqls),
                          sum('FROM "django_content_type"' in sql for sql in sqls))
        if os.environ.get("BENCH_SQL") == "1":
            print(f"\n-- {label} on {host}: {len(sqls)} queries")
            for query in captured.captured_queries:
                print(f"  {query['time']}s  {query['sql'][:300]}")

    profile = None
    if os.environ.get("BENCH_PROFILE") == "1":
        import cProfile

        profile = cProfile.Profile()
    print()
    timed = {}
    for label, get in kinds.items():
        times = []
        for i in range(REQUESTS):
            host, guide = sites[i % len(sites)]
            if profile and label == "home page":
                profile.enable()
            t0 = time.perf_counter()
            get(host, guide)
            times.append((time.perf_counter() - t0) * 1000)
            if profile and label == "home page":
                profile.disable()
        timed[label] = times
        print(f"{label} ({len(sites)} sites, anonymous): p50 {statistics.median(times):.1f} ms  "
              f"p95 {nearest_rank(times, 95):.1f} ms  max {max(times):.1f} ms  (n={len(times)})", flush=True)
    for label, (n, sets, content_types) in queries.items():
        print(f"queries {label.split(' /')[0]}: {n} per request ({sets} of them SET search_path, "
              f"{content_types} django_content_type)")
    worst = max(nearest_rank(times, 95) for times in timed.values())
    print(f"goal    page p95 ≤ {GOAL_P95_MS:.0f} ms: {'met' if worst <= GOAL_P95_MS else 'MISSED'} "
          f"(worst p95 {worst:.1f} ms; p95 is nearest-rank)")
    if profile:
        import pstats

        print("\nhome page, cProfile (cumulative):")
        pstats.Stats(profile, stream=sys.stdout).sort_stats("cumulative").print_stats(30)
    print(machine_line(f"wagtail={version_of('wagtail')}", f"django-tenants={version_of('django-tenants')}",
                       f"psycopg={version_of('psycopg')}"), flush=True)


if __name__ == "__main__":
    sys.exit(main())
