"""The plugin's tests run in CivicGrid's test world: the core's fixtures (``world``,
``committed``) come from the tests package of a CivicGrid checkout, and the plugin
must be installed (its entry point seen at start-up) so its tables exist in every
tenant's schema. How to run them: README.md; CivicGrid's own suite runs them in
tests/plugins/test_acme_sms_end_to_end.py.
"""

import os
from importlib.util import find_spec

import pytest
from django.apps import apps
from django.test.utils import override_settings

try:
    CHECKOUT = find_spec("tests.world") is not None
except ModuleNotFoundError:
    CHECKOUT = False
if not CHECKOUT:
    raise pytest.UsageError("the Acme SMS tests need a CivicGrid checkout on PYTHONPATH (its tests package "
                            "builds the test world)")
if not apps.is_installed("acme_sms"):
    raise pytest.UsageError("civicgrid-acme-sms is not installed where CivicGrid looks for plugins: "
                            "pip-install it and put it on PYTHONPATH")

from acme_helpers import API_KEY, FakeGateway  # noqa: E402

from tests.conftest import *  # noqa: E402, F403 -- the core's fixtures: django_db_setup, world, committed
from tests.conftest import _back_to_public, free_port  # noqa: E402, F401 -- autouse, which * leaves out

# The plugin needs both settings to run at all. CivicGrid's suite sets them before the
# child starts (as an installation would); a run by hand gets stand-ins here, which is
# early enough: the plugin manager reads them on first use.
os.environ.setdefault("ACME_SMS_ENDPOINT", f"http://127.0.0.1:{free_port()}/sms")
os.environ.setdefault("ACME_SMS_API_KEY", "acme-test-key")


@pytest.fixture
def gateway():
    """A gateway of the test's own on a free port; the plugin is pointed at it with ``API_KEY``."""
    with FakeGateway() as running, override_settings(ACME_SMS_ENDPOINT=running.url, ACME_SMS_API_KEY=API_KEY):
        yield running
