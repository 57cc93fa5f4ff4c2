"""Any change to a tenant or a domain makes every process resolve hosts afresh."""

from django.db.models.signals import post_delete, post_save

from .hosts import hosts_changed
from .models import Domain, Tenant


def _changed(sender, **kwargs):
    hosts_changed()


def connect() -> None:
    for model in (Tenant, Domain):
        post_save.connect(_changed, sender=model, dispatch_uid=f"hosts-{model.__name__}-save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"hosts-{model.__name__}-delete")
