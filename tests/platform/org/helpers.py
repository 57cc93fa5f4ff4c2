"""Shared bits of the org tests: the demo tree's geometry and signed-in clients."""

from django.test import Client

from civicgrid.platform.org.demo import GRID_SIZE, square

SHANGCHENG = "shangcheng.localhost"
YUHANG = "yuhang.localhost"
SHANGCHENG_CENTER = (120.17, 30.24)
YUHANG_CENTER = (120.30, 30.42)


def tile(center, column, row):
    """The demo tree's square for a column (community) and row (grid), as build_demo_tree makes it."""
    lng0, lat0 = center
    return square(lng0 + column * GRID_SIZE, lat0 + row * GRID_SIZE)


def inside(center, column, row):
    lng0, lat0 = center
    return lng0 + (column + 0.5) * GRID_SIZE, lat0 + (row + 0.5) * GRID_SIZE


def signed_in(world, username, host=SHANGCHENG):
    client = Client(HTTP_HOST=host)
    client.force_login(world.user(username))
    return client
