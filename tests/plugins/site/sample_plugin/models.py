from django.db import models


class HeardEvent(models.Model):
    """What the sample plugin heard, in the tenant's schema (its data stays when switched off)."""

    action = models.CharField(max_length=40)
    case_number = models.CharField(max_length=40)
    hook = models.CharField(max_length=40)

    def __str__(self):
        return f"{self.hook} {self.action}"
