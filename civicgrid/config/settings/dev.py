"""Development and the newcomer's `civicgrid run`: embedded services allowed."""

from .base import *  # noqa: F403

DEBUG = True
