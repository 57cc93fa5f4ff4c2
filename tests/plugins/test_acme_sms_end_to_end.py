"""The Acme SMS example plugin as an installation gets it: built and pip-installed
as its own distribution, then a fresh CivicGrid process with it on the path (a
child pytest run with a test database of its own) runs the plugin's tests and the
end-to-end scenario in examples/acme-sms/tests: catalog, publishing, switching on
for one county, texts on reported cases through the outbox, metering, the statement."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

import pytest
from packaging.version import Version

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "examples" / "acme-sms"
CHILD_TIMEOUT = 600


def builds_wheels_offline() -> bool:
    """setuptools before 70.1 needs the wheel package to build a wheel."""
    return find_spec("wheel") is not None or Version(metadata.version("setuptools")) >= Version("70.1")


@pytest.mark.slow
def test_the_acme_sms_distribution_installs_with_pip_and_works_end_to_end(tmp_path):
    # Built from a copy: an in-tree build leaves build/ and *.egg-info behind.
    source, site = tmp_path / "acme-sms", tmp_path / "site"
    shutil.copytree(PLUGIN, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-input", "--disable-pip-version-check",
           "--target", str(site), str(source)]
    if builds_wheels_offline():
        pip.insert(-1, "--no-build-isolation")  # no index needed: the venv's setuptools builds it
    done = subprocess.run(pip, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    [dist_info] = site.glob("civicgrid_acme_sms-0.1.0.dist-info")
    entry_points = (dist_info / "entry_points.txt").read_text()
    assert "[civicgrid.plugins]" in entry_points and "acme_sms = acme_sms.apps:AcmeSmsConfig" in entry_points
    assert (site / "acme_sms" / "migrations" / "0001_initial.py").is_file()

    # The gateway lives in the child; its address is set before the child starts, as
    # an installation's environment would be. The child makes its own test database
    # (test_<name>_<pid>) with the plugin's tables in every schema, and its own queue.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)]),
           "DJANGO_SETTINGS_MODULE": "civicgrid.config.settings.test",
           "ACME_SMS_ENDPOINT": f"http://127.0.0.1:{free_port()}/sms", "ACME_SMS_API_KEY": "acme-e2e-key"}
    env.pop("CELERY_QUEUE", None)
    # cwd outside the source copy, so `acme_sms` is the installed package, not the source.
    child = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(source / "tests")],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    output = child.stdout[-20000:] + child.stderr[-5000:]
    assert child.returncode == 0, output
    summary = child.stdout.strip().splitlines()[-1]
    assert re.match(r"\d+ passed", summary) and not re.search(r"skipped|failed|error", summary), output
