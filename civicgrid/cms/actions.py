"""Making community sites and the people who write them.

A site is made in one transaction across the tenant's schema and public: its page tree
from the template, the Wagtail ``Site`` on ``<slug>.<county host>``, that host as a
``Domain`` of the tenant (so the tenant resolves first), a collection for its files,
an editors' and a moderators' group with page and collection permissions on its tree
only, and a moderation workflow that sends editors' changes to the moderators.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import override
from wagtail.models import (
    Collection,
    GroupApprovalTask,
    GroupCollectionPermission,
    GroupPagePermission,
    Locale,
    Page,
    Site,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from civicgrid.platform.accounts.staff.models import ScopeKind, StaffProfile, StaffRole
from civicgrid.platform.audit.actions import record
from civicgrid.platform.org.models import OrgUnit
from civicgrid.tenants.models import Domain, Tenant

from .models import CommunitySite
from .template import site_tree

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
EDITOR_PAGE_PERMISSIONS = ("add_page", "change_page")
MODERATOR_PAGE_PERMISSIONS = ("add_page", "change_page", "publish_page", "lock_page", "unlock_page")
COLLECTION_PERMISSIONS = {
    "wagtailimages": ("add_image", "change_image", "choose_image"),
    "wagtaildocs": ("add_document", "change_document", "choose_document"),
}
# County-wide roles that run every site of the tenant (and approve like a moderator).
CMS_ADMIN_ROLES = (StaffRole.COUNTY_ADMIN,)


def prepare_tenant_cms(*, tenant: Tenant, acting_user=None) -> None:
    """preparing the community sites' page tree (locale, root page, root collection)"""
    ensure_cms_roots()


def ensure_cms_roots() -> Page:
    """Wagtail's own data migrations make these rows in the template only; a clone has
    none, so each tenant gets them here (idempotent). No default site: a host that is
    not a community's own answers 404, never another community's pages."""
    language = settings.LANGUAGE_CODE
    locale, _created = Locale.objects.get_or_create(language_code=language)
    root = Page.get_first_root_node()
    if root is None:
        root = Page.add_root(instance=Page(title="Root", slug="root", locale=locale, live=True))
    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")
    return root


def _group(name: str, page_codenames, page: Page, collection: Collection) -> Group:
    """The group named ``name`` (made if missing) with admin access, ``page_codenames`` on
    ``page``'s tree and the file permissions on ``collection``. Idempotent."""
    group, _created = Group.objects.get_or_create(name=name)
    group.permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    for codename in page_codenames:
        GroupPagePermission.objects.get_or_create(
            group=group, page=page, permission=Permission.objects.get(content_type__app_label="wagtailcore",
                                                                      codename=codename))
    for app_label, codenames in COLLECTION_PERMISSIONS.items():
        for codename in codenames:
            GroupCollectionPermission.objects.get_or_create(
                group=group, collection=collection,
                permission=Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return group


def validate_site(*, community_code: str, slug: str, tenant: Tenant) -> tuple[OrgUnit | None, str]:
    errors: dict[str, list[str]] = {}
    community = OrgUnit.objects.filter(code=community_code, level=OrgUnit.Level.VILLAGE).first()
    if community is None:
        errors["community"] = [_("There is no village or community with the code %(code)s.") % {"code": community_code}]
    elif CommunitySite.objects.filter(community=community).exists():
        errors["community"] = [_("%(name)s has a site already.") % {"name": community.name}]
    host = f"{slug}.{tenant.primary_domain}"
    if not SLUG.match(slug or ""):
        errors["slug"] = [_("Use 3 to 40 lower-case letters, digits and hyphens, starting with a letter.")]
    elif CommunitySite.objects.filter(slug=slug).exists() or Domain.objects.filter(domain=host).exists():
        errors["slug"] = [_("The host name %(host)s is taken.") % {"host": host}]
    if errors:
        raise ValidationError(errors)
    return community, host


def create_site(*, community_code: str, slug: str, acting_staff: StaffProfile | None, acting_user=None) -> CommunitySite:
    """The community's site, made in one step; ValidationError names what is wrong."""
    tenant = connection.tenant
    slug = (slug or "").strip().lower()
    community, host = validate_site(community_code=(community_code or "").strip(), slug=slug, tenant=tenant)
    if acting_staff is not None and not may_create_site(acting_staff, community):
        raise ValidationError({"community": [_("You may only make a site for your own community.")]})
    user = acting_staff.user if acting_staff is not None else acting_user
    schema = connection.schema_name
    # Residents read the site in the installation's language, whoever made it in whichever.
    with transaction.atomic(), override(settings.LANGUAGE_CODE):
        root = ensure_cms_roots()
        home, children = site_tree(community.name, slug)
        root.add_child(instance=home)
        for child in children:
            home.add_child(instance=child)
        site = Site.objects.create(hostname=host, port=80, root_page=home, site_name=community.name)
        Domain.objects.create(domain=host, tenant=tenant, is_primary=False, serves=Domain.Serves.COMMUNITY_SITE)
        collection = Collection.get_first_root_node().add_child(name=f"{community.name} ({slug})")
        editors = _group(f"{schema}:{slug}:editors", EDITOR_PAGE_PERMISSIONS, home, collection)
        moderators = _group(f"{schema}:{slug}:moderators", MODERATOR_PAGE_PERMISSIONS, home, collection)
        workflow = Workflow.objects.create(name=_("%(name)s: approval") % {"name": community.name})
        task = GroupApprovalTask.objects.create(name=_("%(name)s: moderators approve") % {"name": community.name})
        task.groups.set([moderators, cms_admins_group()])
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
        WorkflowPage.objects.create(workflow=workflow, page=home)
        community_site = CommunitySite.objects.create(site=site, community=community, slug=slug,
                                                      collection=collection, editors=editors,
                                                      moderators=moderators, created_by=user)
        sync_site_groups()
        # Wagtail cleared its cached root paths when the site was saved; a request that
        # cached them again before this commits would not know the new site.
        transaction.on_commit(Site.clear_site_root_paths_cache)
        record(action="cms.site_created", actor=user, target=community_site, host=host, community=community.code)
    return community_site


def may_create_site(staff: StaffProfile, community: OrgUnit) -> bool:
    if staff.role == StaffRole.COUNTY_ADMIN:
        return True
    if staff.role in (StaffRole.COMMUNITY_OPERATOR, StaffRole.TOWNSHIP_OPERATOR):
        unit = staff.scope_org_unit
        return staff.scope_kind == ScopeKind.ORG_UNIT and unit is not None and community.path.startswith(unit.path)
    return False


def cms_admins_group() -> Group:
    """The tenant's county admins: every site's pages, files and approvals."""
    return _group(f"{connection.schema_name}:cms:admins", MODERATOR_PAGE_PERMISSIONS, ensure_cms_roots(),
                  Collection.get_first_root_node())


def sync_site_groups() -> None:
    """Every member's site groups as their role and area say (see ``sync_member``). Run
    when a site is made; members made or changed later are synced by a signal."""
    sites = list(CommunitySite.objects.select_related("community", "editors", "moderators"))
    for profile in StaffProfile.objects.select_related("user", "scope_org_unit"):
        sync_member(profile, sites=sites)


def sync_member(profile: StaffProfile, *, sites: list[CommunitySite] | None = None) -> None:
    """County admins in the county's admins' group; township and community operators among
    the moderators of the sites in their area; editors among their community's editors.
    Out of every other site group of this tenant (a role or area changed, a member left)."""
    if sites is None:
        sites = list(CommunitySite.objects.select_related("community", "editors", "moderators"))
    wanted: set[int] = set()
    if not sites and not profile.user.groups.exists():
        return  # no site yet (a county being onboarded): nothing to join, nothing to leave
    if profile.is_active:
        if profile.role in CMS_ADMIN_ROLES:
            wanted.add(cms_admins_group().pk)
        area = profile.scope_org_unit.path if profile.scope_kind == ScopeKind.ORG_UNIT and profile.scope_org_unit else None
        for site in sites:
            if area is None or not site.community.path.startswith(area):
                continue
            if profile.role in (StaffRole.COMMUNITY_OPERATOR, StaffRole.TOWNSHIP_OPERATOR):
                wanted.add(site.moderators_id)
            elif profile.role == StaffRole.COMMUNITY_EDITOR:
                wanted.add(site.editors_id)
    ours = Group.objects.filter(name__startswith=f"{connection.schema_name}:")
    current = set(profile.user.groups.filter(pk__in=ours).values_list("pk", flat=True))
    profile.user.groups.remove(*(current - wanted))
    profile.user.groups.add(*(wanted - current))


def add_editor(*, site: CommunitySite, username: str, full_name: str = "", password: str = "",
               password_hash: str = "", acting_user=None) -> StaffProfile:
    """A community editor: writes this site only (its pages and its collection)."""
    from civicgrid.platform.accounts.actions import create_staff_member

    with transaction.atomic():
        profile = create_staff_member(username=username, password=password, password_hash=password_hash,
                                      role=StaffRole.COMMUNITY_EDITOR, full_name=full_name,
                                      scope_org_unit=site.community, acting_user=acting_user)
        sync_member(profile)
    return profile


# --- what residents do -------------------------------------------------------------------------


def report_from_site(*, community: CommunitySite, phone: str, category: str, description: str,
                     latitude: float | None, longitude: float | None, address: str, photos, name: str = "",
                     anonymous: bool = False):
    """A resident's report on a community site: the case (through the engine's
    ``report_case``, source ``resident_site``), its photos and the site's record of it
    (the tracking key), together or not at all. ``phone`` is the confirmed one;
    an anonymous report keeps neither it nor the name on the case."""
    from civicgrid.platform.cases import actions as case_actions
    from civicgrid.platform.cases.models import Source

    from .models import ResidentReport
    from .selectors import track_key

    description = (description or "").strip()
    with transaction.atomic():
        case = case_actions.report_case(
            staff=None, category=category, title=case_actions.title_from(description, ""), description=description,
            source=Source.RESIDENT_SITE, latitude=latitude, longitude=longitude, address=(address or "").strip(),
            reporter_name="" if anonymous else (name or "").strip(), reporter_phone="" if anonymous else phone,
            actor=None, photos=photos)
        ResidentReport.objects.create(case=case, site=community.site, anonymous=anonymous,
                                      track_key=track_key(case.number, phone[-4:]))
        record(action="cms.resident_report", target=case, number=case.number, site=community.slug,
               anonymous=anonymous)
    return case


def vote(*, consultation, option_id: int, phone: str):
    """One vote of a confirmed phone in an open consultation; ValidationError otherwise."""
    from django.db import IntegrityError

    from civicgrid.platform.registry import protection

    from .models import ConsultationVote

    if not consultation.is_open:
        raise ValidationError(_("This consultation has closed."))
    if not consultation.options.filter(pk=option_id).exists():
        raise ValidationError({"option": [_("Choose one of the options.")]})
    try:
        with transaction.atomic():
            return ConsultationVote.objects.create(consultation=consultation, option_id=option_id,
                                                   phone_index=protection.blind_index(phone, "phone"))
    except IntegrityError as exc:  # the unique constraint: one vote per phone
        raise ValidationError(_("You have voted in this consultation already.")) from exc
