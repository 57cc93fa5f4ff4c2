"""The hooks CivicGrid calls, only in tenants that have the plugin switched on."""

from civicgrid.plugins import hookimpl

from .channel import AcmeSmsChannel


@hookimpl
def civicgrid_notification_channels():
    return [AcmeSmsChannel()]
