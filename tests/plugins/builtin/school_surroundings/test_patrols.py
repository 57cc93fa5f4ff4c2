"""Patrols: the rota, today's duty, check-ins through the API and the phone page (inside the
zone, during the slot, by the patroller on it), counted and billed once however often the
phone sends it; misses on the duty page and the home page's box; bad input refused."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.plugins.builtin.school_surroundings import actions, selectors
from civicgrid.plugins.builtin.school_surroundings.models import PatrolCheckIn, PatrolSlot, School
from civicgrid.plugins.manager import tenant_hooks
from civicgrid.plugins.models import UsageRecord

from .helpers import PLUGIN, client, everyone, make_school, point_at, slot_around_now, staff, switch_on

API = "/api/v1/p/school_surroundings/checkins/"


@pytest.fixture
def patrol(world):
    switch_on(world)
    with tenant_context(world.shangcheng):
        roles = everyone()
        school = make_school()
        slot = slot_around_now(school, [roles["gridworker"], roles["township"]])
    world.school, world.slot = school, slot
    world.township_user = roles["township"].user.username
    return world


def usage(key: str) -> list:
    connection.set_schema_to_public()
    return list(UsageRecord.objects.filter(plugin_id=PLUGIN, idempotency_key=key).values_list("metric", "quantity"))


def test_a_check_in_through_the_api_is_counted_and_billed_once(patrol):
    world = patrol
    here = point_at(80, 45)
    worker = client(world, "shangcheng_gridworker")
    body = {"slot": world.slot.pk, "latitude": here[0], "longitude": here[1], "note": "校门口正常"}
    first = worker.post(API, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="phone-key-0001")
    assert first.status_code == 201, first.content
    again = worker.post(API, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="phone-key-0001")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    # The same patroller with a new key (a second tap after a reload): still the one check-in.
    third = worker.post(API, {**body, "device_key": "phone-key-0002"}, content_type="application/json")
    assert third.status_code == 200 and third.json()["id"] == first.json()["id"]
    day = timezone.localdate().isoformat()
    assert first.json()["distance_m"] == 80 and first.json()["day"] == day
    key = f"patrol:{world.slot.pk}:{day}"
    assert usage(key) == [("patrol", 1)]
    # The other patroller on the slot checks in too: a second check-in, the same patrol billed once.
    township = client(world, world.township_user)
    assert township.post(API, body, content_type="application/json",
                         HTTP_IDEMPOTENCY_KEY="phone-key-0003").status_code == 201
    assert usage(key) == [("patrol", 1)]
    with tenant_context(world.shangcheng):
        assert PatrolCheckIn.objects.filter(slot=world.slot).count() == 2
        duty = selectors.duty_for(staff("shangcheng_operator"))
        assert [(d.slot.pk, d.state) for d in duty] == [(world.slot.pk, "done")]
    listed = client(world, "shangcheng_operator").get(API, {"day": day})
    assert listed.status_code == 200 and listed.json()["count"] == 2
    mine = worker.get(API).json()
    assert mine["count"] == 1 and mine["results"][0]["patroller"] == "shangcheng_gridworker"
    duty_page = client(world, "shangcheng_operator").get("/p/school_surroundings/duty/").content.decode()
    assert 'data-state="done"' in duty_page and "shangcheng_gridworker" in duty_page


def test_a_check_in_kept_offline_is_judged_at_its_time_and_counted_once(patrol):
    world = patrol
    with tenant_context(world.shangcheng):
        at = timezone.now()
        worker = staff("shangcheng_gridworker")
        here = point_at(10, 0)
        item, created = actions.check_in(staff=worker, slot_id=world.slot.pk, latitude=here[0], longitude=here[1],
                                         device_key="offline-key-1", checked_at=at, now=at + timedelta(hours=2))
        assert created and item.checked_at == at
        again, created = actions.check_in(staff=worker, slot_id=world.slot.pk, latitude=here[0], longitude=here[1],
                                          device_key="offline-key-1", checked_at=at, now=at + timedelta(hours=3))
        assert not created and again.pk == item.pk
        with pytest.raises(actions.ValidationError):  # kept too long, or from the future
            actions.check_in(staff=staff(world.township_user), slot_id=world.slot.pk, latitude=here[0],
                             longitude=here[1], device_key="offline-key-2", checked_at=at - timedelta(days=2))
    assert usage(f"patrol:{world.slot.pk}:{timezone.localdate(at).isoformat()}") == [("patrol", 1)]


def test_check_ins_outside_the_zone_or_the_slot_are_refused_with_the_reason(patrol):
    world = patrol
    worker = client(world, "shangcheng_gridworker")
    far = point_at(350, 90)
    answer = worker.post(API, {"slot": world.slot.pk, "latitude": far[0], "longitude": far[1]},
                         content_type="application/json", HTTP_IDEMPOTENCY_KEY="far-away-1")
    assert answer.status_code == 400 and answer.json()["refused"] == "outside_zone"
    assert "350 m" in answer.json()["detail"] and "within 200 m" in answer.json()["detail"]
    # In the user's language (Chinese by default).
    chinese = client(world, "shangcheng_gridworker", language="zh-hans").post(
        API, {"slot": world.slot.pk, "latitude": far[0], "longitude": far[1]}, content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="far-away-2")
    assert chinese.status_code == 400 and "350" in chinese.json()["detail"]
    with tenant_context(world.shangcheng):
        now = timezone.localtime()
        if now.time() < time(23, 0):
            later = actions.add_slot(staff=staff("shangcheng_admin"), school=world.school, weekdays="1234567",
                                     starts_at=time(23, 30), ends_at=time(23, 59),
                                     patrollers=[staff("shangcheng_gridworker")])
        else:
            later = actions.add_slot(staff=staff("shangcheng_admin"), school=world.school, weekdays="1234567",
                                     starts_at=time(0, 0), ends_at=time(0, 30),
                                     patrollers=[staff("shangcheng_gridworker")])
    here = point_at(20, 0)
    answer = worker.post(API, {"slot": later.pk, "latitude": here[0], "longitude": here[1]},
                         content_type="application/json", HTTP_IDEMPOTENCY_KEY="too-early-1")
    assert answer.status_code == 400 and answer.json()["refused"] == "outside_slot"
    assert "Check in during the slot" in answer.json()["detail"]
    # The phone page says the same, in words.
    page = worker.post("/p/school_surroundings/checkin/", {"slot": later.pk, "latitude": here[0],
                                                           "longitude": here[1], "device_key": "too-early-2"})
    assert page.status_code == 400 and "Check in during the slot" in page.content.decode()
    # Not on the slot: not found. No key, NUL bytes, no position: refused by field.
    assert client(world, "shangcheng_operator").post(API, {"slot": world.slot.pk, "latitude": here[0],
                                                           "longitude": here[1]}, content_type="application/json",
                                                     HTTP_IDEMPOTENCY_KEY="not-mine-1").status_code == 404
    assert worker.post(API, {"slot": world.slot.pk, "latitude": here[0], "longitude": here[1]},
                       content_type="application/json").status_code == 400
    assert worker.post(API, {"slot": world.slot.pk, "latitude": here[0], "longitude": here[1], "note": "a\x00b"},
                       content_type="application/json", HTTP_IDEMPOTENCY_KEY="nul-bytes-1").status_code == 400
    assert worker.post(API, {"slot": world.slot.pk, "latitude": 91, "longitude": here[1]},
                       content_type="application/json", HTTP_IDEMPOTENCY_KEY="bad-lat-1").status_code == 400
    assert worker.post(API, {"slot": world.slot.pk, "latitude": here[0], "longitude": here[1]},
                       content_type="application/json", HTTP_IDEMPOTENCY_KEY="bad key!").status_code == 400
    with tenant_context(world.shangcheng):
        assert not PatrolCheckIn.objects.exists()
    connection.set_schema_to_public()
    assert not UsageRecord.objects.filter(plugin_id=PLUGIN).exists()


def test_a_missed_patrol_shows_on_the_duty_page_and_the_home_page(patrol):
    world = patrol
    with tenant_context(world.shangcheng):
        now = timezone.localtime()
        if now.time() < time(0, 10):
            pytest.skip("no slot of today has ended yet")
        missed = actions.add_slot(staff=staff("shangcheng_admin"), school=world.school, weekdays="1234567",
                                  starts_at=time(0, 0), ends_at=time(0, 5), patrollers=[staff("shangcheng_gridworker")])
        figures = selectors.figures(staff("shangcheng_operator"))
        assert (figures.schools, figures.missed, figures.done, figures.planned) == (1, 1, 0, 2)
        widgets = tenant_hooks().collect("civicgrid_dashboard_widgets", staff=staff("shangcheng_operator"))
        assert len(widgets) == 1 and "1 missed" in widgets[0].text
    page = client(world, "shangcheng_operator").get("/p/school_surroundings/duty/").content.decode()
    assert f'data-slot="{missed.pk}" data-state="missed"' in page
    assert 'data-count="missed">1<' in page
    home = client(world, "shangcheng_operator").get("/").content.decode()
    assert "1 missed" in home
    # The rota editor removes a slot; its history stays.
    admin = client(world, "shangcheng_admin")
    assert admin.post(f"/p/school_surroundings/schools/{world.school.pk}/rota/{missed.pk}/remove/").status_code == 302
    with tenant_context(world.shangcheng):
        assert not PatrolSlot.objects.get(pk=missed.pk).is_active


def test_the_rota_editor_adds_and_changes_slots(patrol):
    world = patrol
    with tenant_context(world.shangcheng):
        worker, township = staff("shangcheng_gridworker"), staff(world.township_user)
    admin = client(world, "shangcheng_admin")
    url = f"/p/school_surroundings/schools/{world.school.pk}/rota/"
    answer = admin.post(url, {"weekdays": ["1", "2", "3", "4", "5"], "starts_at": "16:00", "ends_at": "17:30",
                              "patrollers": [worker.pk, township.pk]})
    assert answer.status_code == 302
    with tenant_context(world.shangcheng):
        slot = PatrolSlot.objects.get(school=world.school, starts_at=time(16, 0))
        assert slot.weekdays == "12345" and slot.ends_at == time(17, 30)
    bad = admin.post(url, {"weekdays": ["1"], "starts_at": "08:00", "ends_at": "07:00", "patrollers": [worker.pk]})
    assert bad.status_code == 400 and "ends after it starts" in bad.content.decode()
    nobody = admin.post(url, {"weekdays": ["1"], "starts_at": "07:00", "ends_at": "08:00"})
    assert nobody.status_code == 400
    operator = staff  # noqa: F841 -- the operator is checked in the access test
    edit = admin.post(f"{url}{slot.pk}/", {"weekdays": ["6"], "starts_at": "09:00", "ends_at": "10:00",
                                           "patrollers": [worker.pk]})
    assert edit.status_code == 302
    with tenant_context(world.shangcheng):
        slot.refresh_from_db()
        assert (slot.weekdays, slot.starts_at) == ("6", time(9, 0))
        assert list(slot.patrollers.all()) == [worker]


@pytest.mark.parametrize("radius", ["10", "5000", "abc", "-1", "200.5"])
def test_a_bad_radius_is_refused_and_nothing_changes(patrol, radius):
    world = patrol
    admin = client(world, "shangcheng_admin")
    data = {"code": world.school.code, "name": world.school.name, "kind": "primary", "address": "幸福路1号",
            "grid": "T01-C01-G01", "latitude": "30.245500", "longitude": "120.175000", "pupils": "500",
            "radius_m": radius}
    answer = admin.post(f"/p/school_surroundings/schools/{world.school.pk}/edit/", data)
    assert answer.status_code == 400
    with tenant_context(world.shangcheng):
        assert School.objects.get(pk=world.school.pk).radius_m == 200
        with pytest.raises(actions.ValidationError):
            actions.update_school(staff=staff("shangcheng_admin"), school=world.school, changes={"radius_m": radius})


def test_school_forms_refuse_bad_input(patrol):
    world = patrol
    admin = client(world, "shangcheng_admin")
    good = {"code": "T-S009", "name": "新学校", "kind": "senior", "address": "某路", "grid": "T01-C01-G02",
            "latitude": "30.255", "longitude": "120.175", "pupils": "100", "radius_m": "250",
            "opens_at": "07:30", "closes_at": "17:00"}
    for change in ({"name": "新\x00学校"}, {"code": world.school.code}, {"kind": "university"},
                   {"latitude": "91"}, {"grid": "T01"}, {"closes_at": "07:00"}, {"pupils": "-3"}):
        answer = admin.post("/p/school_surroundings/schools/new/", {**good, **change})
        assert answer.status_code == 400, change
    with tenant_context(world.shangcheng):
        assert not School.objects.filter(code="T-S009").exists()
        with pytest.raises(actions.ValidationError):
            actions.create_school(staff=None, **{**good, "name": "a\x00", "grid": world.school.grid})
    answer = admin.post("/p/school_surroundings/schools/new/", good)
    assert answer.status_code == 302
    with tenant_context(world.shangcheng):
        made = School.objects.get(code="T-S009")
        assert (made.radius_m, made.kind, str(made.latitude)) == (250, "senior", "30.255000")
