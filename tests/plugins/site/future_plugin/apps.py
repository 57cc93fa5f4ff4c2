from civicgrid.plugins import PluginConfig


class FutureConfig(PluginConfig):
    name = "future_plugin"
    plugin_id = "future"
    verbose_name = "未来插件"
    core_requires = ">=99"
