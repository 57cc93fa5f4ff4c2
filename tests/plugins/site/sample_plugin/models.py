from django.db import models


class HeardEvent(models.Model):
    """What the sample plugin heard, in the tenant's schema (its data stays when switched off)."""

    action = models.CharField(max_length=40)
    case_number = models.CharField(max_length=40)
    hook = models.CharField(max_length=40)

    def __str__(self):
        return f"{self.hook} {self.action}"


class Hydrant(models.Model):
    """A registry the sample plugin fills from departments' files (its import target)."""

    code = models.CharField(max_length=20, unique=True)
    street = models.CharField(max_length=100)
    grid_id = models.BigIntegerField()
    checked_on = models.DateField(null=True, blank=True)

    def __str__(self):
        return self.code
