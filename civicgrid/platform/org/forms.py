"""Console forms for the org tree, departments and staff. They validate input;
the views call the actions."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from civicgrid.platform.accounts.models import User
from civicgrid.platform.accounts.staff.models import StaffRole

from . import selectors
from .models import Department, OrgUnit


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.CIVICGRID_IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(_("The file is larger than %(limit)s; use the command line.")
                                        % {"limit": filesizeformat(limit)})
        return upload


class DepartmentForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=100)
    level = forms.ChoiceField(label=_("Level"), choices=Department.Level.choices)
    township = forms.ModelChoiceField(label=_("Township"), queryset=OrgUnit.objects.none(), required=False,
                                      to_field_name="code",
                                      help_text=_("Township departments only."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = selectors.townships()

    def clean(self):
        data = super().clean()
        if data.get("level") == Department.Level.TOWNSHIP and not data.get("township"):
            self.add_error("township", _("A township department needs its township."))
        return data


class StaffForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    full_name = forms.CharField(label=_("Name"), max_length=100, required=False)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, min_length=8)
    # No preselected role: a slip of the mouse must not make a county admin.
    role = forms.ChoiceField(label=_("Role"), choices=[("", "---------"), *StaffRole.choices])
    scope_org_unit = forms.ModelChoiceField(label=_("Org unit"), queryset=OrgUnit.objects.none(), required=False,
                                            to_field_name="code",
                                            help_text=_("Works in this unit and everything below it."))
    scope_department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.none(),
                                              required=False, to_field_name="code")

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope_org_unit"].queryset = selectors.units_for(staff)
        self.fields["scope_department"].queryset = selectors.departments_for(staff)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This user name is taken."))
        return username

    def clean_password(self):
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password

    def clean(self):
        data = super().clean()
        if data.get("scope_org_unit") and data.get("scope_department"):
            raise forms.ValidationError(_("A staff member's scope is an org unit or a department, not both."))
        if data.get("role") == StaffRole.DEPARTMENT_HANDLER and not data.get("scope_department"):
            self.add_error("scope_department", _("A department handler belongs to a department."))
        if data.get("role") == StaffRole.GRID_WORKER and not data.get("scope_org_unit"):
            self.add_error("scope_org_unit", _("A grid worker works in a grid or a unit above it."))
        return data
