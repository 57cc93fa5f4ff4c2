"""Routes: being built (filled in by its owner)."""

urlpatterns: list = []
