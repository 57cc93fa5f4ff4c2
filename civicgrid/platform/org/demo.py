"""A small org tree for demos and tests: 2 townships × 2 communities × 2 grids,
grid boundaries as squares around a centre point, and the usual departments."""

from __future__ import annotations

from .actions import create_department, create_org_unit
from .models import Department, OrgUnit

TOWNSHIPS = ["城东街道", "城西街道"]
COMMUNITIES = ["幸福社区", "和平社区", "光明社区", "新民社区"]
DEPARTMENTS = [
    ("D-PSB", "公安分局"),
    ("D-JUS", "司法局"),
    ("D-SAMR", "市场监督管理局"),
    ("D-FIRE", "消防救援大队"),
    ("D-EDU", "教育局"),
]
GRID_SIZE = 0.01  # degrees, about 1 km


def square(lng: float, lat: float, size: float = GRID_SIZE) -> dict:
    return {"type": "Polygon", "coordinates": [[
        [lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat],
    ]]}


def build_demo_tree(*, center: tuple[float, float], acting_user=None) -> dict[str, OrgUnit | Department]:
    """Idempotent: returns what exists, creates what is missing. Keys are codes."""
    made: dict[str, OrgUnit | Department] = {u.code: u for u in OrgUnit.objects.all()}
    lng0, lat0 = center
    community_names = iter(COMMUNITIES)
    for t, township_name in enumerate(TOWNSHIPS, start=1):
        t_code = f"T{t:02d}"
        township = made.get(t_code) or create_org_unit(code=t_code, name=township_name, acting_user=acting_user)
        made[t_code] = township
        for c in range(1, 3):
            c_code = f"{t_code}-C{c:02d}"
            name = next(community_names)
            community = made.get(c_code) or create_org_unit(code=c_code, name=name, parent=township,
                                                            acting_user=acting_user)
            made[c_code] = community
            for g in range(1, 3):
                g_code = f"{c_code}-G{g:02d}"
                # Grids tile a 4 × 2 block: column by community, row by grid.
                column, row = (t - 1) * 2 + (c - 1), g - 1
                boundary = square(lng0 + column * GRID_SIZE, lat0 + row * GRID_SIZE)
                made[g_code] = made.get(g_code) or create_org_unit(
                    code=g_code, name=f"{name}第{g}网格", parent=community, boundary=boundary,
                    acting_user=acting_user)
    departments = {d.code: d for d in Department.objects.all()}
    for code, name in DEPARTMENTS:
        made[code] = departments.get(code) or create_department(code=code, name=name, acting_user=acting_user)
    law = "D-T01-LAW"
    made[law] = departments.get(law) or create_department(
        code=law, name="城东街道综合行政执法队", level=Department.Level.TOWNSHIP, township=made["T01"],
        acting_user=acting_user)
    return made
