"""Development and the newcomer's `civicgrid run`: embedded services allowed."""

from .base import *  # noqa: F403

DEBUG = True
CIVICGRID_LOG_PHONE_CODES = True  # the demo shows residents' one-time codes in the server log
