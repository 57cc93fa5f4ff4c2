from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _


class CommunitySite(models.Model):
    """A community's resident site: a Wagtail ``Site`` on a host of its own, rooted at a
    home page made from the template, with a collection for its images and documents
    and the two groups that work on it (editors write, the community's moderators
    approve and publish). Groups live in the public schema with the users, so their
    names carry the tenant's schema."""

    site = models.OneToOneField("wagtailcore.Site", on_delete=models.CASCADE, related_name="community")
    community = models.OneToOneField("org.OrgUnit", on_delete=models.PROTECT, related_name="community_site",
                                     verbose_name=_("community"))
    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    collection = models.OneToOneField("wagtailcore.Collection", on_delete=models.PROTECT, related_name="+")
    editors = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="+")
    moderators = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("community site")
        verbose_name_plural = _("community sites")

    def __str__(self):
        return self.site.hostname

    @property
    def host(self) -> str:
        return self.site.hostname
