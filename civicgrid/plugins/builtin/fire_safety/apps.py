"""The fire-safety module's contract. Read while settings load: imports no models."""

from decimal import Decimal

from civicgrid.plugins import Meter, PluginConfig, Price


class FireSafetyConfig(PluginConfig):
    name = "civicgrid.plugins.builtin.fire_safety"
    label = "fire_safety"
    default_auto_field = "django.db.models.BigAutoField"

    plugin_id = "fire_safety"
    verbose_name = "消防安全"
    name_en = "Fire safety"
    vendor = "civicgrid"
    vendor_name = "CivicGrid"
    core_requires = ">=0.1,<0.2"
    description = "三小场所、群租房、电动自行车充电点等消防风险单位的登记、检查和隐患闭环。"
    meters = (Meter("inspection", "次", "消防检查", "fire inspection"),)
    default_prices = (Price("inspection", Decimal("0.2000"), free=200),)
