"""The food-safety module's contract. Read while settings load: imports no models."""

from decimal import Decimal

from civicgrid.plugins import Meter, PluginConfig, Price


class FoodSafetyConfig(PluginConfig):
    name = "civicgrid.plugins.builtin.food_safety"
    label = "food_safety"
    default_auto_field = "django.db.models.BigAutoField"

    plugin_id = "food_safety"
    verbose_name = "食品药品安全"
    name_en = "Food safety"
    vendor = "civicgrid"
    vendor_name = "CivicGrid"
    core_requires = ">=0.1,<0.2"
    description = "食品经营主体和许可证登记、许可证到期提醒、检查和投诉转市场监管部门办理。"
    meters = (Meter("inspection", "次", "食品检查", "food inspection"),)
    default_prices = (Price("inspection", Decimal("0.2000"), free=200),)
