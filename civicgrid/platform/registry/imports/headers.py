"""How departments' files name their columns and spell their values.

These are the files' own words (data, not interface), so they are not
translated: they let the mapping form pre-fill itself and let a file say
"户籍" where the registry stores ``registered``.
"""

from __future__ import annotations

import re

from .models import Field

HEADER_NAMES: dict[str, tuple[str, ...]] = {
    Field.NAME: ("姓名", "名字", "人员姓名", "name", "full name"),
    Field.ID_NUMBER: ("身份证号", "身份证号码", "公民身份号码", "证件号码", "身份证", "id number", "id_number",
                      "id no", "id"),
    Field.PHONE: ("手机号", "手机号码", "联系电话", "电话", "联系方式", "phone", "mobile", "telephone"),
    Field.RESIDENCE: ("人口类型", "户籍类型", "居住类型", "户籍性质", "residence", "residence type"),
    Field.REGISTERED_ADDRESS: ("户籍地址", "户籍地", "户籍所在地", "户籍详址", "registered address",
                               "registered_address"),
    Field.ACTUAL_ADDRESS: ("现住址", "实际居住地址", "居住地址", "现居住地", "住址", "actual address",
                           "actual_address", "address"),
    Field.GRID: ("网格编码", "网格编号", "网格代码", "所属网格", "网格", "grid code", "grid_code", "grid"),
    Field.HOUSEHOLD: ("户号", "户编号", "户籍户号", "household number", "household_number", "household"),
}

RESIDENCE_VALUES: dict[str, str] = {
    "户籍": "registered", "户籍人口": "registered", "常住": "registered", "常住人口": "registered",
    "本地": "registered", "registered": "registered",
    "流动": "floating", "流动人口": "floating", "外来": "floating", "外来人口": "floating", "暂住": "floating",
    "floating": "floating",
}

_SPACE = re.compile(r"[\s_\-:：()（）]+")


def header_key(text: str) -> str:
    return _SPACE.sub("", str(text or "")).casefold()


_KNOWN = {header_key(name): field for field, names in HEADER_NAMES.items() for name in names}


def guess_mapping(header: list[str]) -> dict[str, str]:
    """header text → field for every column whose name says what it is; each field once."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for column in header:
        field = _KNOWN.get(header_key(column))
        if field and field not in taken and column not in mapping:
            mapping[column] = str(field)
            taken.add(field)
    return mapping
