"""The second factor at sign-in: TOTP on a phone app, with recovery codes.

Who needs one: provincial admins, county admins, and every role that may unmask
personal data (``SECOND_FACTOR_ROLES``). Devices live in public beside the users
(django-otp); enrolling, using a recovery code and resetting are audited in the
schema where they happen.
"""

from __future__ import annotations

from django.db import transaction
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from civicgrid.platform.audit.actions import record

from .models import ProvinceRole, User
from .staff.models import SECOND_FACTOR_ROLES, StaffProfile

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "authenticator"
RECOVERY_NAME = "recovery"


def needs_second_factor(user: User, staff: StaffProfile | None) -> bool:
    """On this site, for this membership (None on the province site or for outsiders)."""
    if not user.is_authenticated:
        return False
    if user.province_role == ProvinceRole.PROVINCIAL_ADMIN:
        return True
    return bool(staff) and staff.role in SECOND_FACTOR_ROLES  # staff may be a lazy None


def has_authenticator(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def passed_in_session(user: User, session) -> bool:
    """What OTPMiddleware decides for a request, for places without it (websockets)."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    if not persistent_id:
        return False
    device = Device.from_persistent_id(persistent_id, for_verify=False)
    return device is not None and device.user_id == user.pk and device.confirmed


def pending_authenticator(user: User) -> TOTPDevice:
    """The unconfirmed device shown while enrolling: the same key until it is confirmed,
    so reloading the page does not invalidate what the phone already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=AUTHENTICATOR_NAME).first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def confirm_authenticator(*, request, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirms the device if ``token`` is its current code, verifies this session with it
    and returns fresh recovery codes (shown once); None for a wrong code."""
    if device.confirmed or not device.verify_token(token):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user, confirmed=True).delete()  # one phone at a time
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = new_recovery_codes(device.user)
        record(action="account.second_factor_enrolled", actor=device.user, target=device.user)
    otp_login(request, device)
    return codes


def verify(*, request, token: str) -> bool:
    """A code from the authenticator, or a recovery code (used up); verifies the session."""
    user = request.user
    token = token.strip().replace(" ", "")
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(token):
            otp_login(request, device)
            return True
    for device in StaticDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(token):
            otp_login(request, device)
            record(action="account.recovery_code_used", actor=user, target=user,
                   remaining=device.token_set.count())
            return True
    return False


def reset_second_factor(*, user: User, acting_user: User | None) -> int:
    """Removes the user's devices: they enrol again at their next sign-in (a lost phone)."""
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        removed += StaticDevice.objects.filter(user=user).delete()[0]
        record(action="account.second_factor_reset", actor=acting_user, target=user)
    return removed


def new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes
