from django.db import connection


def staff_profile_saved(sender, instance, **kwargs):
    """Keep the member's Wagtail groups in step with their role and area (``actions.sync_member``)."""
    if connection.schema_name == "public":
        return
    from .actions import sync_member

    sync_member(instance)
