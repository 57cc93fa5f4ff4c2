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

