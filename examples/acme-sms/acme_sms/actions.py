"""What a county does with the plugin's data: register the phones staff get texts on."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from civicgrid.platform.accounts.staff.models import StaffProfile
from civicgrid.platform.registry.identity import normalise_phone
from civicgrid.platform.registry.protection import encrypt, mask_phone

from .models import SmsRecipient


def register_phone(user, phone: str) -> SmsRecipient:
    """Record (or change) the mobile ``user`` gets text messages on, in the current
    tenant. Only the tenant's own staff can be registered."""
    if connection.schema_name == "public":
        raise RuntimeError("phones are registered in a tenant; no tenant is set")
    if not StaffProfile.objects.filter(user=user).exists():
        raise ValidationError(_("Only this county's staff can receive text messages."))
    number = normalise_phone(phone)
    recipient, _created = SmsRecipient.objects.update_or_create(
        user=user, defaults={"phone_encrypted": encrypt(number), "phone_masked": mask_phone(number)})
    return recipient


def forget_phone(user) -> bool:
    """Stop texting ``user`` here; True when a phone was registered."""
    deleted, _by_model = SmsRecipient.objects.filter(user=user).delete()
    return bool(deleted)
