from civicgrid.platform.accounts.staff.models import StaffRole

# Who may open Wagtail's admin here at all; what each may touch there is Wagtail's page
# and collection permissions, granted per site by ``cms.actions``.
CMS_ROLES = frozenset({StaffRole.COUNTY_ADMIN, StaffRole.TOWNSHIP_OPERATOR, StaffRole.COMMUNITY_OPERATOR,
                       StaffRole.COMMUNITY_EDITOR})
