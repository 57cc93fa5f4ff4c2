"""``civicgrid second_factor code KEY`` prints the code an authenticator app would show
for a key (what to type when enrolling without a phone at hand, as in the demo);
``civicgrid second_factor reset USER`` removes a user's devices (a lost phone), audited."""

from base64 import b32decode

from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp

from civicgrid.platform.accounts.models import User
from civicgrid.platform.accounts.second_factor import reset_second_factor


class Command(BaseCommand):
    help = "Second factor: print the current code for a key, or reset a user's devices."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        code = commands.add_parser("code", help="the current six-digit code for a key shown at enrolment")
        code.add_argument("key", nargs="+", help="the key, as shown (spaces allowed)")
        reset = commands.add_parser("reset", help="remove a user's authenticator and recovery codes")
        reset.add_argument("username")

    def handle(self, *args, command, **options):
        if command == "code":
            key = "".join(options["key"]).replace("-", "").upper()
            try:
                secret = b32decode(key + "=" * (-len(key) % 8))
            except ValueError as exc:
                raise CommandError(f"not a key: {exc}") from exc
            self.stdout.write(f"{totp(secret):06d}")
            return
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist as exc:
            raise CommandError(f"no user {options['username']!r}") from exc
        removed = reset_second_factor(user=user, acting_user=None)
        self.stdout.write(f"{user.username}: {removed} device(s) removed; they enrol again at their next sign-in")
