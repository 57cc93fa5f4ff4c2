from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """One integration's credential in this tenant. The plain token is shown once, when it is
    made; only its SHA-256 is kept, so a copy of the database opens nothing."""

    label = models.CharField(_("integration"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    # The token's first characters, so a person can tell tokens apart in the list.
    prefix = models.CharField(max_length=12)
    scopes = models.JSONField(_("scopes"), default=list)
    acts_as = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("acts as"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [models.CheckConstraint(condition=models.Q(expires_at__gt=models.F("created_at")),
                                              name="api_token_expires_after_creation")]

    def __str__(self):
        return f"{self.label} ({self.prefix}…)"
