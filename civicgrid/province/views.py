"""Province pages: the public portal and the provincial admin's tenant management."""

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.platform.accounts.access import province_role_required
from civicgrid.platform.accounts.models import ProvinceRole
from civicgrid.province.models import TenantOffboarding
from civicgrid.province.offboarding import OffboardingRefused, request_offboarding
from civicgrid.province.onboarding import OnboardingRefused, request_onboarding, resume_tenant, suspend_tenant
from civicgrid.tenants import progress as live_progress
from civicgrid.tenants.models import OnboardingJob, Tenant
from civicgrid.tenants.selectors import onboarding_job_state, port_suffix, tenants_for_province

from .forms import OffboardingForm, OnboardingForm

provincial_admin_required = province_role_required(ProvinceRole.PROVINCIAL_ADMIN)


def portal(request):
    tenants = list(tenants_for_province().filter(status=Tenant.Status.ACTIVE))
    cities = [t for t in tenants if t.level == Tenant.Level.CITY]
    for city in cities:
        city.active_children = [t for t in tenants if t.parent_id == city.pk]
    return render(request, "province/portal.html", {"cities": cities, "port_suffix": port_suffix(request)})


@provincial_admin_required
def dashboard(request):
    form = OnboardingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = request_onboarding(params=form.cleaned_data, acting_user=request.user)
        except OnboardingRefused as refused:
            for field, problems in refused.errors.items():
                for problem in problems:
                    form.add_error(None if field not in form.fields else field, problem)
        else:
            return redirect("province:job", job.pk)
    tenants = list(tenants_for_province())
    _attach_offboarding(tenants)
    return render(request, "province/dashboard.html", {
        "form": form,
        "tenants": tenants,
        "offboard_form": OffboardingForm(),
        "tombstones": TenantOffboarding.objects.filter(status=TenantOffboarding.Status.PURGED)[:10],
        "jobs": OnboardingJob.objects.all()[:10],
        "port_suffix": port_suffix(request),
    })


@provincial_admin_required
def job_page(request, job_id):
    return render(request, "province/job.html", {"job": get_object_or_404(OnboardingJob, pk=job_id)})


@provincial_admin_required
def job_progress(request, job_id):
    job = get_object_or_404(OnboardingJob.objects.select_related("tenant"), pk=job_id)
    return JsonResponse(onboarding_job_state(job, request))


def _tenant_by_code(code) -> Tenant:
    tenant = Tenant.objects.exclude(schema_name="public").filter(division_code=code).first()
    if tenant is None:
        raise Http404
    return tenant


@require_POST
@provincial_admin_required
def suspend(request, code):
    tenant = suspend_tenant(tenant=_tenant_by_code(code), acting_user=request.user)
    messages.success(request, _("%(name)s is suspended.") % {"name": tenant.name})
    return redirect("province:dashboard")


@require_POST
@provincial_admin_required
def resume(request, code):
    tenant = resume_tenant(tenant=_tenant_by_code(code), acting_user=request.user)
    messages.success(request, _("%(name)s is back in service.") % {"name": tenant.name})
    return redirect("province:dashboard")




def _attach_offboarding(tenants: list[Tenant]) -> None:
    """Each suspended tenant's pending offboarding (due date) or, while its archive is being
    written, the task's progress."""
    from civicgrid.province.offboarding import progress_key

    pending = {o.tenant_id: o for o in TenantOffboarding.objects.filter(status=TenantOffboarding.Status.PENDING)}
    for tenant in tenants:
        tenant.offboarding = pending.get(tenant.pk)
        tenant.offboarding_progress = None
        if tenant.offboarding is None and tenant.status == Tenant.Status.SUSPENDED:
            live = live_progress.read(progress_key(tenant))
            if live:
                tenant.offboarding_progress = {"percent": int(100 * live["done"] / (live["total"] or 1)),
                                               "step": _(live["step"]) if live["step"] else ""}


@require_POST
@provincial_admin_required
def offboard(request, code):
    tenant = _tenant_by_code(code)
    form = OffboardingForm(request.POST)
    if not form.is_valid():
        for problems in form.errors.values():
            for problem in problems:
                messages.error(request, problem)
        return redirect("province:dashboard")
    try:
        request_offboarding(tenant=tenant, grace_days=form.cleaned_data["grace_days"],
                            reason=form.cleaned_data["reason"], acting_user=request.user)
    except OffboardingRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("%(name)s is suspended; its archive is being written, and it will be deleted "
                                    "after %(days)d days unless resumed.")
                         % {"name": tenant.name, "days": form.cleaned_data["grace_days"]})
    return redirect("province:dashboard")
