"""Placeholder: filled by the pages work."""

app_name = "plugins"
urlpatterns: list = []
