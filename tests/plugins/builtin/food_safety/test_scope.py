"""Who sees which businesses: the county, market supervision, an area; nobody else."""

from django_tenants.utils import tenant_context

from civicgrid.plugins.builtin.food_safety import actions, selectors

from .conftest import business_values, staff


def test_the_area_decides_and_other_departments_see_nothing(food):
    with tenant_context(food.shangcheng):
        actions.register_business(staff=staff("shangcheng_admin"), **business_values())
        actions.register_business(staff=staff("shangcheng_admin"), **business_values(
            name="城西小吃店", grid="T02-C01-G01", licence_number="JY13301020000009"))
        seen = {name: sorted(selectors.businesses_for(staff(name)).values_list("name", flat=True))
                for name in ("shangcheng_admin", "fs_samr", "fs_township2", "fs_gridworker2", "fs_psb")}
        assert seen["shangcheng_admin"] == seen["fs_samr"] == ["城西小吃店", "老王面馆"]
        assert seen["fs_township2"] == seen["fs_gridworker2"] == ["城西小吃店"]
        assert seen["fs_psb"] == []  # another department: not theirs



def test_an_api_token_needs_the_modules_scope(food):
    """module:food_safety:read lists businesses, :write files a complaint (a case); the core's
    scopes and another module's open nothing here; another county's token is unknown (401)."""
    from civicgrid.platform.cases.models import Case
    from tests.platform.security.test_api_tokens import bearer, issue, module_on

    from .conftest import YUHANG

    with tenant_context(food.shangcheng):
        business = actions.register_business(staff=staff("shangcheng_admin"), **business_values())
    module_on(food, "fire_safety")
    businesses, complaints = "/api/v1/p/food_safety/businesses/", "/api/v1/p/food_safety/complaints/"
    complaint = {"business": business.pk, "description": "吃出异物", "source": "hotline_12345"}

    def cases() -> int:
        with tenant_context(food.shangcheng):
            return Case.objects.count()

    before = cases()
    _row, others = issue(food, "cases:read", "cases:write", "module:fire_safety:read", "module:fire_safety:write")
    refused = bearer(others).get(businesses)
    assert refused.status_code == 403 and "module:food_safety:read" in refused.json()["detail"]
    assert bearer(others).post(complaints, complaint, content_type="application/json").status_code == 403
    _row, reader = issue(food, "module:food_safety:read")
    listed = bearer(reader).get(businesses)
    assert listed.status_code == 200 and [b["name"] for b in listed.json()["results"]] == ["老王面馆"]
    assert bearer(reader).post(complaints, complaint, content_type="application/json").status_code == 403
    assert cases() == before
    _row, writer = issue(food, "module:food_safety:read", "module:food_safety:write")
    made = bearer(writer).post(complaints, complaint, content_type="application/json")
    assert made.status_code == 201, made.content
    assert cases() == before + 1
    # The account still decides: another department's handler sees no business.
    _row, psb = issue(food, "module:food_safety:read", user="fs_psb")
    assert bearer(psb).get(f"{businesses}{business.pk}/").status_code == 404
    module_on(food, "food_safety", tenant=food.yuhang)
    _row, yuhang = issue(food, "module:food_safety:read", "module:food_safety:write", user="yuhang_operator",
                         tenant=food.yuhang)
    assert bearer(yuhang).post(complaints, complaint, content_type="application/json").status_code == 401
    assert bearer(writer, YUHANG).get(businesses).status_code == 401
    assert cases() == before + 1
