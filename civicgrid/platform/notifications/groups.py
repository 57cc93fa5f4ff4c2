"""Channel-layer group names. Per user (and later per department), never
tenant-wide: channels-redis drops messages past a channel's capacity quietly,
so broadcasts to everyone are a trap. The socket is only a nudge; the stored
notification is the truth."""


def user_group(schema: str, user_id: int) -> str:
    return f"t.{schema}.user.{user_id}"
