"""Websockets against a live ASGI server (daphne) with a real client."""

import asyncio
import json

import pytest
import websockets
from django.db import connection
from django.test import Client
from websockets.exceptions import ConnectionClosed, InvalidStatus

from civicgrid.platform.accounts.models import User

pytestmark = pytest.mark.slow


@pytest.fixture
def session_cookie(django_db_setup, django_db_blocker):
    """Committed sessions (the server is another process), removed afterwards."""
    made = []

    def make(username):
        with django_db_blocker.unblock():
            connection.set_schema_to_public()
            client = Client()
            client.force_login(User.objects.get(username=username))
            made.append(client)
            return f"sessionid={client.cookies['sessionid'].value}"

    yield make
    with django_db_blocker.unblock():
        for client in made:
            client.logout()


async def open_socket(port, host, cookie=None):
    headers = {"Cookie": cookie} if cookie else {}
    # The URL names the tenant's host (sent as Host); the socket goes to loopback.
    return await websockets.connect(f"ws://{host}:{port}/ws/notifications/", additional_headers=headers,
                                    host="127.0.0.1", port=port, open_timeout=10)


def run(coro):
    return asyncio.run(coro)


def test_unknown_host_is_refused(asgi_server):
    async def attempt():
        with pytest.raises(InvalidStatus) as refused:
            await open_socket(asgi_server, "nowhere.localhost")
        return refused.value.response.status_code

    assert run(attempt()) == 403


def test_a_member_is_greeted_in_their_tenant(asgi_server, session_cookie):
    cookie = session_cookie("shangcheng_operator")

    async def attempt():
        socket = await open_socket(asgi_server, "shangcheng.localhost", cookie)
        async with socket:
            return json.loads(await asyncio.wait_for(socket.recv(), 10))

    hello = run(attempt())
    assert hello["type"] == "hello" and (hello["tenant"], hello["user"]) == ("shangcheng", "shangcheng_operator")
    assert hello["unread"] >= 0 and hello["newest"] >= 0  # the page's counter and catch-up cursor


@pytest.mark.parametrize("username, code", [("yuhang_operator", 4404), ("prov_admin", 4404), (None, 4401)])
def test_others_are_closed_without_a_word(asgi_server, session_cookie, username, code):
    cookie = session_cookie(username) if username else None

    async def attempt():
        try:
            socket = await open_socket(asgi_server, "shangcheng.localhost", cookie)
        except InvalidStatus as refused:
            return ("refused", refused.response.status_code)
        async with socket:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 10)
            return ("closed", closed.value.rcvd.code)

    outcome = run(attempt())
    # daphne answers a close before accept with 403; either way no data flows.
    assert outcome in (("closed", code), ("refused", 403))


def test_a_session_short_of_its_second_factor_is_closed(asgi_server, session_cookie, django_db_blocker):
    """The operator's password alone (the session has not passed the authenticator) opens no socket."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from civicgrid.platform.accounts.sessions import SessionStore

    cookie = session_cookie("shangcheng_operator")
    with django_db_blocker.unblock():
        store = SessionStore(session_key=cookie.split("=", 1)[1])
        store.pop(DEVICE_ID_SESSION_KEY)
        store.save()

    async def attempt():
        try:
            socket = await open_socket(asgi_server, "shangcheng.localhost", cookie)
        except InvalidStatus as refused:
            return ("refused", refused.response.status_code)
        async with socket:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 10)
            return ("closed", closed.value.rcvd.code)

    assert run(attempt()) in (("closed", 4404), ("refused", 403))


def test_a_suspended_tenant_takes_no_sockets(asgi_server, session_cookie, django_db_blocker, django_db_setup):
    from civicgrid.province.onboarding import resume_tenant, suspend_tenant
    from civicgrid.tenants.models import Tenant

    cookie = session_cookie("yuhang_operator")
    with django_db_blocker.unblock():
        tenant = suspend_tenant(tenant=Tenant.objects.get(schema_name="yuhang"), acting_user=None)
    try:
        async def attempt():
            with pytest.raises(InvalidStatus) as refused:
                await open_socket(asgi_server, "yuhang.localhost", cookie)
            return refused.value.response.status_code

        assert run(attempt()) == 403
    finally:
        with django_db_blocker.unblock():
            resume_tenant(tenant=tenant, acting_user=None)
