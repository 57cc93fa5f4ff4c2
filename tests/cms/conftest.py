import logging

import pytest
from django_tenants.utils import tenant_context
from wagtail.models import Site


@pytest.fixture(autouse=True)
def _forget_wagtail_site_roots(world):
    """Sites a test made are rolled back with it; Wagtail's cached root paths are not."""
    yield
    for tenant in (world.shangcheng, world.yuhang):
        with tenant_context(tenant):
            Site.clear_site_root_paths_cache()


@pytest.fixture
def code_log():
    """The one-time codes the server wrote to its log while the test ran."""
    from .helpers import sent_codes

    handler = sent_codes()
    yield handler
    logging.getLogger("civicgrid.cms.phone").removeHandler(handler)
