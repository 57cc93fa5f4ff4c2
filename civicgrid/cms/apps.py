from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "civicgrid.cms"
    label = "cms"
    verbose_name = _("Community sites")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Wagtail's admin API declares no permissions of its own; the project's default
        # (DenyAll) would break its choosers. Declare who may use it, as every API view must.
        from wagtail.admin.api.views import PagesAdminAPIViewSet
        from wagtail.documents.api.admin.views import DocumentsAdminAPIViewSet
        from wagtail.images.api.admin.views import ImagesAdminAPIViewSet

        from civicgrid.platform.api.permissions import IsCmsMember

        for viewset in (PagesAdminAPIViewSet, ImagesAdminAPIViewSet, DocumentsAdminAPIViewSet):
            viewset.permission_classes = [IsCmsMember]

        # A member made, moved or switched off joins or leaves the site groups at once.
        from django.db.models.signals import post_save

        from civicgrid.platform.accounts.staff.models import StaffProfile

        from .signals import staff_profile_saved

        post_save.connect(staff_profile_saved, sender=StaffProfile, dispatch_uid="cms-site-groups")
