"""HTTP and websockets. HTTP goes to Django (tenant resolved by its middleware);
websockets resolve the tenant from the Host header in ``TenantWebsocketMiddleware``
and unknown hosts are refused before any consumer runs."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings.dev")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from civicgrid.platform.notifications.routing import websocket_urlpatterns  # noqa: E402
from civicgrid.tenants.asgi import TenantWebsocketMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": TenantWebsocketMiddleware(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
