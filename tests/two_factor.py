"""Second factors for the test world's users.

``force_login`` skips the password; the conftest makes it skip the second factor too,
by verifying the session with the user's authenticator (each world user that needs one
has it, with a key derived from the user name so a browser test can compute its codes).
Tests of the second factor itself sign in through the pages.
"""

from __future__ import annotations

import hashlib
import time
from base64 import b32encode

from django.contrib.auth import SESSION_KEY
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


def key_for(username: str) -> str:
    return hashlib.sha1(f"civicgrid-test-totp:{username}".encode()).hexdigest()[:40]


# A code is accepted once (django-otp refuses a time step it has seen); a test that signs
# in twice within 30 seconds gives the next step's code, which the test devices' wider
# tolerance accepts.
TEST_TOLERANCE = 20
_last_step: dict[str, int] = {}


def give_authenticator(user) -> TOTPDevice:
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True, key=key_for(user.username),
                                     tolerance=TEST_TOLERANCE)


def next_code(username: str) -> str:
    """A code the user's test authenticator accepts now and that was not used before."""
    now = int(time.time()) // 30
    step = max(now, _last_step.get(username, -1) + 1)
    _last_step[username] = step
    return code_at(key_for(username), step - now)


def code_at(key_hex: str, drift: int = 0) -> str:
    return f"{totp(bytes.fromhex(key_hex), drift=drift):06d}"


def b32_key_for(username: str) -> str:
    return b32encode(bytes.fromhex(key_for(username))).decode()


def verify_session(client) -> None:
    """Marks a force-logged-in client's session as having passed its authenticator."""
    session = client.session
    user_id = session.get(SESSION_KEY)
    device = TOTPDevice.objects.filter(user_id=user_id, confirmed=True).first()
    if device is not None:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
