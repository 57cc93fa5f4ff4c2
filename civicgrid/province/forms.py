from django import forms
from django.utils.translation import gettext_lazy as _

from civicgrid.tenants.models import Tenant


class OnboardingForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    division_code = forms.CharField(label=_("Division code"), max_length=6, help_text=_("Six digits, GB/T 2260, e.g. 330102"))
    level = forms.ChoiceField(label=_("Level"), choices=[(Tenant.Level.COUNTY, _("County")), (Tenant.Level.CITY, _("City"))])
    parent_code = forms.ChoiceField(label=_("Parent city"), required=False)
    domain = forms.CharField(label=_("Domain"), max_length=253, help_text=_("e.g. shangcheng.localhost"))
    admin_username = forms.CharField(label=_("County admin user name"), max_length=150, required=False,
                                     help_text=_("Defaults to <schema>_admin"))
    admin_password = forms.CharField(label=_("County admin password"), widget=forms.PasswordInput, min_length=8)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cities = Tenant.objects.filter(level=Tenant.Level.CITY).order_by("division_code")
        self.fields["parent_code"].choices = [("", _("— none (a city) —"))] + [
            (city.division_code, f"{city.name} {city.division_code}") for city in cities
        ]


class OffboardingForm(forms.Form):
    grace_days = forms.IntegerField(label=_("Days before deletion"), min_value=0, max_value=3650, initial=30)
    reason = forms.CharField(label=_("Reason"), max_length=500)
    confirm = forms.BooleanField(label=_("I understand the tenant is suspended now and deleted after the grace "
                                         "period, its archive kept."), required=True)
