"""Plugin hook dispatch benchmark: what a lifecycle event costs with plugins installed.

Run from the repository root with a PostgreSQL server and Redis available:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
    REDIS_URL=redis://127.0.0.1:6379/15 \
    .venv/bin/python bench/plugins.py

Nothing here touches tenant data: the scratch database, ``civicgrid_bench_plugins``
(override with BENCH_DB), exists only for the ``machine`` line's server version and is
dropped at the end. BENCH_LOOPS changes the iterations per timing (default 200,000).

Not timed: ten plugin hook modules (``types.ModuleType`` objects put in ``sys.modules``),
each implementing ``civicgrid_case_reported``, ``civicgrid_case_transitioned`` and
``civicgrid_case_closed`` with a body that adds one to a counter, registered through the
manager's own ``_register`` (so every implementation is wrapped by ``call_as_plugin``, as
in production) into a pluggy manager built the way ``plugin_manager()`` builds it, which
then becomes the process's manager. A stand-in tenant has five of the ten switched on;
another has none.

Timed, per event, each a loop of BENCH_LOOPS iterations, best of 5, the variants taking
turns within each round so that a change in the machine's load falls on all of them:

* baseline    -- the loop body alone: build the ``CaseEvent``, call nothing;
* transition  -- the same, plus ``tenant_hooks(tenant)`` and
                 ``civicgrid_case_transitioned(event=...)`` through the five plugins;
* close       -- the same, plus ``subscribers.dispatch_case_event(hooks, event)`` for a
                 "close" step: ``civicgrid_case_transitioned`` and ``civicgrid_case_closed``,
                 ten plugin calls;
* subscriber  -- the outbox subscriber itself, ``case_events_to_plugins(outbox_row)``, for a
                 "close" row: topic check, ``tenant_hooks()`` of the current tenant, the
                 ``CaseEvent`` built from the payload, the dispatch (the loop body builds the
                 stand-in outbox row instead of a ``CaseEvent``);
* none        -- a tenant with no plugin switched on: ``tenant_hooks(tenant)`` and the
                 subscriber's ``if not hooks.active`` check, nothing dispatched.

Overhead is the variant's time less the baseline's; the ratio is variant / baseline.

Goal: ≤ 50 µs of overhead per event (10 plugins installed, 5 switched on).
"""

from __future__ import annotations

import gc
import os
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scratch import machine_line, run_in_scratch_database, version_of  # noqa: E402

LOOPS = int(os.environ.get("BENCH_LOOPS", 200_000))
ROUNDS = 5
INSTALLED = 10
SWITCHED_ON = 5
GOAL_MICROSECONDS = 50.0
LIFECYCLE_HOOKS = ("civicgrid_case_reported", "civicgrid_case_transitioned", "civicgrid_case_closed")


def main() -> int:
    return run_in_scratch_database("civicgrid_bench_plugins", run)


def hook_module(plugin_id: str, calls: dict[str, int]) -> types.ModuleType:
    """A plugin's ``hooks`` module whose three lifecycle hooks each count their calls."""
    from civicgrid.plugins import hookimpl

    module = types.ModuleType(f"bench_{plugin_id}.hooks")
    for hook in LIFECYCLE_HOOKS:
        key = f"{plugin_id}.{hook}"
        calls[key] = 0

        def implementation(event, _key=key):
            calls[_key] += 1

        implementation.__name__ = hook
        setattr(module, hook, hookimpl(implementation))
    return module


def install_plugins(calls: dict[str, int]) -> list[str]:
    """Register INSTALLED plugins the way ``plugin_manager()`` does and make the result the
    process's manager. Returns the plugin ids."""
    import pluggy

    from civicgrid.plugins import manager as plugin_manager_module
    from civicgrid.plugins.hookspecs import PROJECT, CivicGridSpec

    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(CivicGridSpec)
    plugin_ids = [f"bench_{k:02d}" for k in range(1, INSTALLED + 1)]
    for plugin_id in plugin_ids:
        module = hook_module(plugin_id, calls)
        sys.modules[module.__name__] = module
        config = types.SimpleNamespace(required_settings=(), hooks_module_path=lambda name=module.__name__: name)
        plugin_manager_module._register(manager, plugin_id, config)
    problems = dict(plugin_manager_module._problems)
    if problems or len(manager.list_name_plugin()) != INSTALLED:
        raise SystemExit(f"the bench plugins did not register: {problems}")
    plugin_manager_module._manager = manager
    plugin_manager_module._subsets.clear()
    return plugin_ids


def best_per_call(timings: list[float]) -> float:
    """Microseconds per iteration of the fastest round."""
    return min(timings) / LOOPS * 1e6


def run() -> None:
    from django.db import connection

    from civicgrid.plugins import CaseEvent
    from civicgrid.plugins.manager import tenant_hooks
    from civicgrid.plugins.subscribers import case_events_to_plugins, dispatch_case_event

    print(f"settings={os.environ['DJANGO_SETTINGS_MODULE']} loops={LOOPS:,} best of {ROUNDS}", flush=True)
    calls: dict[str, int] = {}
    plugin_ids = install_plugins(calls)
    on = plugin_ids[::2][:SWITCHED_ON]
    tenant = types.SimpleNamespace(schema_name="bench", pk=1, active_plugins=sorted(on))
    bare = types.SimpleNamespace(schema_name="bench_bare", pk=2, active_plugins=[])

    started = time.perf_counter()
    hooks = tenant_hooks(tenant)
    cold = (time.perf_counter() - started) * 1e6
    assert hooks.active == frozenset(on), hooks.active
    assert tenant_hooks(tenant) is hooks and not tenant_hooks(bare).active
    print(f"setup   {INSTALLED} plugins installed, {len(on)} switched on ({', '.join(sorted(on))}); "
          f"first tenant_hooks() for that set built its subset callers in {cold:.0f}µs (cached after)", flush=True)

    payload = {"case_id": 1, "number": "330102-20261123-0001", "status": "closed", "version": 7,
               "schema": "bench", "notifications": []}

    def baseline(n):
        for i in range(n):
            CaseEvent(schema="bench", case_id=i, number="330102-20261123-0001", action="close", status="closed",
                      version=7, data={})

    def transition(n):
        for i in range(n):
            event = CaseEvent(schema="bench", case_id=i, number="330102-20261123-0001", action="close",
                              status="closed", version=7, data={})
            tenant_hooks(tenant).civicgrid_case_transitioned(event=event)

    def close(n):
        for i in range(n):
            event = CaseEvent(schema="bench", case_id=i, number="330102-20261123-0001", action="close",
                              status="closed", version=7, data={})
            dispatch_case_event(tenant_hooks(tenant), event)

    def subscriber(n):
        for _ in range(n):
            case_events_to_plugins(types.SimpleNamespace(topic="case.close", payload=payload))

    def none(n):
        for i in range(n):
            event = CaseEvent(schema="bench", case_id=i, number="330102-20261123-0001", action="close",
                              status="closed", version=7, data={})
            if tenant_hooks(bare).active:
                dispatch_case_event(tenant_hooks(bare), event)

    variants = {"baseline": baseline, "transition": transition, "close": close, "subscriber": subscriber,
                "none": none}
    # What each variant calls per iteration, to check the hooks ran where they should.
    expected = {"transition": {"civicgrid_case_transitioned"},
                "close": {"civicgrid_case_transitioned", "civicgrid_case_closed"},
                "subscriber": {"civicgrid_case_transitioned", "civicgrid_case_closed"}}
    timings: dict[str, list[float]] = {name: [] for name in variants}
    connection.set_tenant(tenant)  # the subscriber reads the current tenant (no query: nothing runs SQL)
    try:
        for _ in range(ROUNDS):
            for name, loop in variants.items():
                gc.collect()
                gc.disable()  # as timeit does
                try:
                    started = time.perf_counter()
                    loop(LOOPS)
                    timings[name].append(time.perf_counter() - started)
                finally:
                    gc.enable()
    finally:
        connection.set_schema_to_public()

    want = {f"{p}.{h}": 0 for p in plugin_ids for h in LIFECYCLE_HOOKS}
    for hooks_called in expected.values():
        for plugin_id in on:
            for hook in hooks_called:
                want[f"{plugin_id}.{hook}"] += LOOPS * ROUNDS
    wrong = {key: (calls[key], count) for key, count in want.items() if calls[key] != count}
    print(f"check   hook calls per plugin as expected (switched-off plugins never called): "
          f"{'yes' if not wrong else f'NO {wrong}'}", flush=True)

    base = best_per_call(timings["baseline"])
    print()
    print(f"baseline   {base:6.2f}µs/event  (build the CaseEvent, call nothing)")
    lines = (("transition", "tenant_hooks + civicgrid_case_transitioned, 5 plugins"),
             ("close", "tenant_hooks + dispatch_case_event('close'): 2 hooks x 5 plugins"),
             ("subscriber", "case_events_to_plugins(outbox row 'case.close'), whole subscriber"),
             ("none", "tenant with 0 plugins on: tenant_hooks + active check"))
    for name, what in lines:
        each = best_per_call(timings[name])
        print(f"{name:<10} {each:6.2f}µs/event  overhead {each - base:6.2f}µs  ratio {each / base:5.2f}x  ({what})")
    overhead = best_per_call(timings["close"]) - base
    whole = best_per_call(timings["subscriber"])
    print(f"target  close overhead {overhead:.2f}µs/event (whole subscriber {whole:.2f}µs/event) with {INSTALLED} "
          f"installed, {len(on)} on: {'meets' if overhead <= GOAL_MICROSECONDS else 'MISSES'} "
          f"≤ {GOAL_MICROSECONDS:.0f}µs", flush=True)
    print(machine_line(f"pluggy={version_of('pluggy')}"), flush=True)


if __name__ == "__main__":
    sys.exit(main())
