"""平安通, the grid worker's phone app (being built)."""

from django.shortcuts import redirect

from civicgrid.platform.accounts.access import staff_required
from civicgrid.platform.accounts.staff.models import StaffRole


@staff_required(StaffRole.GRID_WORKER)
def app_home(request):
    return redirect("case-list")
