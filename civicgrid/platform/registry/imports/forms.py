from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.utils.translation import gettext_lazy as _l

from . import targets
from .actions import check_mapping
from .headers import guess_mapping
from .models import PERSONS, ImportBatch
from .selectors import source_departments


class UploadForm(forms.Form):
    target = forms.ChoiceField(label=_l("What the file holds"), initial=PERSONS, required=False)
    department = forms.ModelChoiceField(label=_l("Source department"), queryset=source_departments(),
                                        to_field_name="code")
    file = forms.FileField(label=_l("File (CSV in UTF-8 or GBK, or XLSX)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = source_departments()
        # Persons, and the registries of the modules this county has switched on.
        self.fields["target"].choices = [(choice.code, choice.label) for choice in targets.choices()]

    def clean_target(self):
        return self.cleaned_data.get("target") or PERSONS


class MappingForm(forms.Form):
    """One choice per column of the file: what it is, or nothing."""

    def __init__(self, batch: ImportBatch, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.batch = batch
        target = targets.plugin_target(batch.target)
        guessed = guess_mapping(batch.header) if target is None else targets.guess(target, batch.header)
        initial = batch.column_mapping or guessed
        choices = [("", _l("— not imported —")), *targets.fields(batch.target)]
        for index, column in enumerate(batch.header):
            self.fields[f"column_{index}"] = forms.ChoiceField(label=column or f"#{index + 1}", choices=choices,
                                                               required=False, initial=initial.get(column, ""))

    def clean(self):
        data = super().clean()
        mapping = {column: data.get(f"column_{i}") or "" for i, column in enumerate(self.batch.header)}
        try:
            self.mapping = check_mapping(self.batch, mapping)
        except ValidationError as exc:
            for message in exc.messages:
                self.add_error(None, message)
        return data


class LimitedUploadHandler(FileUploadHandler):
    """Skips a file as soon as it passes the limit, so it is never stored, and
    tells the view so."""

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request.import_upload_too_big = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None
