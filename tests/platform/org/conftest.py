import pytest

from civicgrid.platform.org import geo


@pytest.fixture(autouse=True)
def _fresh_grid_locators():
    """Tests change grids inside a transaction that is rolled back; a locator
    built from those changes must not outlive the test (and meet the next one)."""
    geo.forget_all()
    yield
    geo.forget_all()
