"""Images of the community sites, served through the platform's own URL.

A rendition's default URL is the storage's (a presigned MinIO address that expires):
residents' pages would be cached with dead links, and MinIO is not on the public
network. Originals and renditions are served by ``cms.views.media`` instead, which
finds the file in the current tenant before it reads it.
"""

from django.db import models
from django.urls import reverse
from wagtail.images.models import AbstractImage, AbstractRendition, Image


class SiteImage(AbstractImage):
    admin_form_fields = Image.admin_form_fields


class SiteRendition(AbstractRendition):
    image = models.ForeignKey(SiteImage, on_delete=models.CASCADE, related_name="renditions")

    class Meta:
        unique_together = (("image", "filter_spec", "focal_point_key"),)

    @property
    def url(self) -> str:
        return reverse("cms-media", kwargs={"name": self.file.name})
