"""Reading deploy/: the files the tests validate and take apart. Nothing here needs a
database: these tests read files and run validators."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
K8S = DEPLOY / "k8s"
HEALTH_PATH = "/api/v1/health/"
# The processes built from deploy/Dockerfile (stage `app`), one image for all of them.
APP_SERVICES = ("migrate", "web", "ws", "worker", "beat")


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def load_all(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def client_major(package: str) -> int:
    """The major version of a dependency pinned in pyproject.toml (``name==X.Y.Z``)."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [d for d in dependencies if re.match(rf"{re.escape(package)}==", d)]
    assert len(pins) == 1, f"{package} is not pinned once in pyproject.toml: {pins}"
    return int(pins[0].split("==")[1].split(".")[0])


def dockerfile_stages(path: Path) -> dict[str, list[str]]:
    """A Dockerfile's instructions (continuation lines joined), by stage name ("" before any)."""
    stages: dict[str, list[str]] = {"": []}
    current = ""
    text = re.sub(r"\\\n", " ", path.read_text())
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            words = line.split()
            current = words[3] if len(words) >= 4 and words[2].upper() == "AS" else f"stage{len(stages)}"
            stages[current] = []
        stages[current].append(line)
    return stages
