"""Placeholder: filled by the pages work."""

app_name = "vendor"
urlpatterns: list = []
