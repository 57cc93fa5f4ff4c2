"""Placeholder: filled by the pages work."""

app_name = "province-plugins"
urlpatterns: list = []
