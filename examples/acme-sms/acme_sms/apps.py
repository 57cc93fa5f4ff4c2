"""The plugin's contract with CivicGrid. Read while settings load: imports no models."""

from decimal import Decimal

from civicgrid.plugins import Meter, PluginConfig, Price


class AcmeSmsConfig(PluginConfig):
    name = "acme_sms"
    label = "acme_sms"
    default_auto_field = "django.db.models.BigAutoField"

    plugin_id = "acme_sms"
    verbose_name = "Acme 短信通知"
    name_en = "Acme SMS notifications"
    version = "0.1.0"  # keep in step with pyproject.toml
    vendor = "acme"
    vendor_name = "Acme 通信有限公司"
    core_requires = ">=0.1,<0.2"
    description = "把案件通知以短信发送给已登记手机号的工作人员（Acme 短信网关）。"
    required_settings = ("ACME_SMS_ENDPOINT", "ACME_SMS_API_KEY")
    meters = (Meter("sms", "条", "短信", "SMS message"),)
    default_prices = (Price("sms", Decimal("0.0450"), free=100),)
