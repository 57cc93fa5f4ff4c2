"""The test suite's own plugin: one implementation of every hook, a table, two meters."""

from decimal import Decimal

from civicgrid.plugins import Meter, PluginConfig, Price


class SampleConfig(PluginConfig):
    name = "sample_plugin"
    label = "sample_plugin"
    plugin_id = "sample"
    verbose_name = "示例插件"
    name_en = "Sample plugin"
    version = "1.2.0"
    vendor = "sample-vendor"
    vendor_name = "示例科技有限公司"
    core_requires = ">=0.1"
    description = "测试用插件"
    meters = (Meter("check", "次", "检查"), Meter("photo", "张", "照片"))
    default_prices = (Price("check", Decimal("0.0500"), free=100), Price("photo", Decimal("0.3333"), free=0))
