"""The layering of docs/architecture.md §3, checked on the import statements themselves.

- ``civicgrid.tenants`` is the tenancy foundation: it imports no domain app and not the
  province. Onboarding steps reach it as hooks named in settings.
- ``civicgrid.platform`` does not import ``civicgrid.province``, which sits above it.

Every module is imported (so the walk sees what Python sees) and its source parsed; imports
inside functions count as much as those at the top."""

import ast
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import civicgrid.platform
import civicgrid.tenants

DOMAIN = ("civicgrid.platform", "civicgrid.plugins", "civicgrid.cms", "civicgrid.search", "civicgrid.province")
PROVINCE = ("civicgrid.province",)


def modules_of(package) -> list:
    names = [package.__name__] + [
        info.name for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
    ]
    return [importlib.import_module(name) for name in names]


def imported_names(source: str, module_name: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, dotted name) of every module an ``import`` or ``from … import`` names,
    relative imports resolved against the module's own package."""
    package = module_name if is_package else module_name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            else:
                base = node.module
            # `from civicgrid import province` names the package through its alias
            found += [(node.lineno, base)] + [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def forbidden_imports(source: str, module_name: str, is_package: bool, forbidden: tuple[str, ...]) -> list[str]:
    by_line: dict[int, str] = {}
    for line, name in imported_names(source, module_name, is_package):
        if any(name == prefix or name.startswith(prefix + ".") for prefix in forbidden):
            by_line.setdefault(line, name)  # the statement's module, before the names it takes
    return [f"{module_name}:{line} imports {name}" for line, name in sorted(by_line.items())]


def violations(package, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for module in modules_of(package):
        source = Path(module.__file__).read_text(encoding="utf-8")  # an empty __init__ has no "source" for inspect
        found += forbidden_imports(source, module.__name__, hasattr(module, "__path__"), forbidden)
    return found


def test_the_walk_sees_the_modules():
    tenants = {m.__name__ for m in modules_of(civicgrid.tenants)}
    assert {"civicgrid.tenants.models", "civicgrid.tenants.schemas", "civicgrid.tenants.middleware"} <= tenants
    platform = {m.__name__ for m in modules_of(civicgrid.platform)}
    assert {"civicgrid.platform.api.views", "civicgrid.platform.cases.actions"} <= platform


@pytest.mark.parametrize("source, module, is_package, bad", [
    ("from civicgrid.platform.audit.actions import record", "civicgrid.tenants.x", False, True),
    ("def f():\n    import civicgrid.province.tasks", "civicgrid.tenants.x", False, True),
    ("from civicgrid import province", "civicgrid.tenants.x", False, True),
    ("from ..plugins.catalog import sync_catalog", "civicgrid.tenants.x", False, True),
    ("from ..plugins import catalog", "civicgrid.tenants", True, True),  # an __init__: `..` is civicgrid
    ("from .schemas import migrate_all", "civicgrid.tenants", True, False),
    ("from . import progress\nfrom civicgrid.tenants.models import Tenant", "civicgrid.tenants.x", False, False),
    ("from civicgrid.platformer import x", "civicgrid.tenants.x", False, False),
])
def test_the_check_itself(source, module, is_package, bad):
    assert bool(forbidden_imports(source, module, is_package, DOMAIN)) is bad


def test_tenants_imports_no_domain_app_and_not_the_province():
    assert violations(civicgrid.tenants, DOMAIN) == []


def test_platform_does_not_import_the_province():
    assert violations(civicgrid.platform, PROVINCE) == []


def test_the_moved_tasks_keep_their_names():
    """Queued jobs and the beat schedule carry a task's name; the tasks moved to
    civicgrid.province.tasks and answer to their old names."""
    from civicgrid.config.celery import app

    app.loader.import_default_modules()
    for name in ("run_onboarding_job", "refresh_tenant_health", "refresh_all_tenant_health"):
        task = app.tasks[f"civicgrid.tenants.tasks.{name}"]
        assert task.run.__module__ == "civicgrid.province.tasks"
