"""makemessages that also extracts ``_l(...)``: modules import ``gettext_lazy as _l``
beside ``gettext as _``, and plain xgettext does not know that name."""

from django.core.management.commands.makemessages import Command as MakeMessages


class Command(MakeMessages):
    xgettext_options = [*MakeMessages.xgettext_options, "--keyword=_l"]
