from civicgrid.plugins import Meter, PluginConfig


class OtherConfig(PluginConfig):
    name = "sample_other"
    label = "sample_other"
    plugin_id = "other"
    verbose_name = "另一个插件"
    core_requires = ">=0.1,<1"
    vendor = "other-vendor"
    meters = (Meter("call", "次", "调用"),)
