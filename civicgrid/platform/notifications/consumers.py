from channels.generic.websocket import AsyncJsonWebsocketConsumer

from civicgrid.platform.accounts.selectors import staff_profile_for
from civicgrid.tenants.asgi import in_tenant_schema

from .groups import user_group

# Close codes in the 4000 range are ours: 4401 not signed in, 4404 not found here.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    """A signed-in staff member's live nudges for this tenant."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await self.is_member():
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.group = user_group(self.scope["tenant"].schema_name, user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "tenant": self.scope["tenant"].schema_name, "user": user.username})

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def notify(self, event):
        await self.send_json({"type": "notification", "payload": event["payload"]})

    @in_tenant_schema
    def is_member(self) -> bool:
        return staff_profile_for(self.scope["user"]) is not None
