"""What the fuzz tests share: the app in-process, shangcheng with a small registry, cases
and a member in every role (made in the test's transaction, so gone after it), signed in
by session, and files kept in a folder of the test's own."""

from __future__ import annotations

import logging

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from tests.fuzz.harness import in_process_app

SHANGCHENG = "shangcheng.localhost"
BASE_URL = f"http://{SHANGCHENG}"

# role → account: the world's, or one the registry's fixture adds (tests/platform/registry/api)
ACCOUNTS = {
    "county_admin": "shangcheng_admin",
    "command_operator": "shangcheng_operator",
    "department_handler": "sc_dept_county",
    "township_operator": "sc_township",
    "community_operator": "sc_community",
    "grid_worker": "shangcheng_gridworker",
    "auditor": "sc_auditor",
}
ROLES = [*ACCOUNTS, "anonymous"]


@pytest.fixture
def app(world):
    # Thousands of refusals would each log a warning; errors (500s) still log.
    quiet = logging.getLogger("django.request")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    with in_process_app() as application:
        yield application
    quiet.setLevel(level)


@pytest.fixture
def media(settings, tmp_path):
    """Storage in a folder of this test's own: what is left in it after a refusal is ours
    (other runs on this machine write the same tenant's folder)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    _new_default_storage()
    yield tmp_path / "media"
    _new_default_storage()  # made again when next used, after the settings fixture restores MEDIA_ROOT


def _new_default_storage():
    """django-tenants' storage keeps where MEDIA_ROOT was when it was first asked: it hears
    only its own setting change, not MEDIA_ROOT's."""
    from django.core.files.storage import default_storage, storages
    from django.utils.functional import empty

    storages._storages.pop("default", None)
    default_storage._wrapped = empty


def credentials(world, role: str, language: str = "zh-hans") -> dict:
    """Headers of a signed-in session in ``role`` (second factor passed), with a CSRF
    token, as a browser's script sends them; none for the anonymous caller. Cookies go
    as a header: the WSGI client would file them under the host "localhost" only."""
    headers = {"Accept-Language": language}
    if role == "anonymous":
        return headers
    http = Client(HTTP_HOST=SHANGCHENG)
    http.force_login(world.user(ACCOUNTS[role]))
    token = _get_new_csrf_string()
    return {**headers, "X-CSRFToken": token,
            "Cookie": f"sessionid={http.cookies['sessionid'].value}; csrftoken={token}"}
