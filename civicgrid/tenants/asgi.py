"""Tenant context for websockets.

Thread-pool database calls start on whatever schema the pooled thread last
used (django-tenants #518, #632, #1168), so every database helper of a
consumer sets the tenant itself: use ``in_tenant_schema``.
"""

from __future__ import annotations

from functools import wraps

from channels.db import database_sync_to_async
from django.db import connection

from .selectors import active_tenant_for_host


def host_from_scope(scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return value.decode("latin-1").split(":")[0].lower()
    return ""


@database_sync_to_async
def _resolve(host: str):
    connection.set_schema_to_public()
    return active_tenant_for_host(host)


class TenantWebsocketMiddleware:
    """Resolves the tenant from the Host header and refuses unknown or inactive hosts."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        tenant = await _resolve(host_from_scope(scope))
        if tenant is None:
            message = await receive()
            if message["type"] == "websocket.connect":
                # Closing before accept makes the server answer the handshake with 403.
                await send({"type": "websocket.close", "code": 4404})
            return None
        return await self.inner(dict(scope, tenant=tenant), receive, send)


def in_tenant_schema(func):
    """``database_sync_to_async`` for a consumer method: runs ``func`` with the
    consumer's tenant set on this thread's connection, and back to public after."""

    @wraps(func)
    def run_in_tenant(self, *args, **kwargs):
        connection.set_tenant(self.scope["tenant"])
        try:
            return func(self, *args, **kwargs)
        finally:
            connection.set_schema_to_public()

    return database_sync_to_async(run_in_tenant)
