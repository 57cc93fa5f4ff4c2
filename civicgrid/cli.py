"""The ``civicgrid`` console command: Django's management commands, with a few
names of our own (``civicgrid migrate`` migrates public, the template and every tenant)."""

import os
import signal
import sys
import threading

ALIASES = {"migrate": "migrate_all"}


def _exit_on_sigterm() -> None:
    """End through SystemExit on SIGTERM, as on Ctrl-C through KeyboardInterrupt.

    Python's default SIGTERM action ends the process on the spot, skipping the
    atexit hooks that stop the embedded servers it started (see
    ``civicgrid.config.embedded``). Installed before anything starts, so that a
    stop at any moment of a command, `civicgrid run`'s start-up included, runs them.
    """

    def exit_(signum, frame):
        raise SystemExit(128 + signum)

    def unraisable(info, default=sys.unraisablehook):
        default(info)
        # A signal's exception raised while Python runs a finalizer (a __del__, a
        # weakref callback) is printed and dropped there, and the stop with it:
        # send the signal again once the finalizer is done, to be raised in
        # ordinary code. Not from atexit callbacks: the process is ending already.
        error = info.exc_value
        signum = (signal.SIGINT if isinstance(error, KeyboardInterrupt)
                  else signal.SIGTERM if isinstance(error, SystemExit) and error.code == 128 + signal.SIGTERM
                  else None)
        if signum and "atexit" not in (info.err_msg or ""):
            again = threading.Timer(0.1, signal.pthread_kill, [threading.main_thread().ident, signum])
            again.daemon = True
            again.start()

    signal.signal(signal.SIGTERM, exit_)
    sys.unraisablehook = unraisable


def main(argv: list[str] | None = None) -> None:
    _exit_on_sigterm()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings.dev")
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1 and argv[1] in ALIASES:
        argv[1] = ALIASES[argv[1]]
    if len(argv) > 1 and argv[1] == "run":
        # Ctrl-C stops the run at any moment, also when it was started from a script in the
        # background, which starts it with SIGINT ignored (a stop during migration would
        # otherwise be lost, and the embedded servers left running).
        signal.signal(signal.SIGINT, signal.default_int_handler)
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
