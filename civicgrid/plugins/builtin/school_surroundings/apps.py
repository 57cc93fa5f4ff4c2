"""The school-surroundings module's contract. Read while settings load: imports no models."""

from decimal import Decimal

from civicgrid.plugins import Meter, PluginConfig, Price


class SchoolSurroundingsConfig(PluginConfig):
    name = "civicgrid.plugins.builtin.school_surroundings"
    label = "school_surroundings"
    default_auto_field = "django.db.models.BigAutoField"

    plugin_id = "school_surroundings"
    verbose_name = "学校及周边"
    name_en = "School surroundings"
    vendor = "civicgrid"
    vendor_name = "CivicGrid"
    core_requires = ">=0.1,<0.2"
    description = "学校及周边区域的场所和隐患一览、上下学时段护校巡逻排班和签到，区域内案件提高紧急程度。"
    meters = (Meter("patrol", "次", "护校巡逻", "school patrol"),)
    default_prices = (Price("patrol", Decimal("0.1000"), free=300),)
