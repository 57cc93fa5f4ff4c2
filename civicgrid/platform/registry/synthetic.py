"""Synthetic but valid Chinese registry data for demos, tests and benchmarks.

Deterministic for a given seed. ID numbers carry real checksums, so they pass
the same validation as real ones; none is a real person's.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from dataclasses import dataclass

from .identity import id_check_char

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鑫浩宇轩子涵梓萱欣怡晨阳佳琪雨婷思远嘉豪博文雅静俊杰志强建国建华海燕春梅秋菊冬梅国庆卫东丽华"
STREETS = ["解放路", "延安路", "中山路", "凤起路", "庆春路", "西湖大道", "江城路", "清泰街", "建国路", "环城东路"]


@dataclass(frozen=True)
class SyntheticPerson:
    name: str
    id_number: str
    phone: str
    address: str


def id_number(rng: random.Random, region: str, index: int) -> str:
    """A valid 18-digit ID: region, a birth date, a sequence that makes it unique per index."""
    birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(0, 365 * 65))
    # 3-digit sequence + region variation keeps a million IDs unique: index spreads over dates too.
    sequence = index % 1000
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def persons(count: int, *, region: str = "330102", seed: int = 2026) -> Iterator[SyntheticPerson]:
    rng = random.Random(seed)
    seen: set[str] = set()
    produced = 0
    while produced < count:
        number = id_number(rng, region, produced)
        if number in seen:
            continue
        seen.add(number)
        produced += 1
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        address = f"{rng.choice(STREETS)}{rng.randrange(1, 400)}号{rng.randrange(1, 30)}幢{rng.randrange(101, 2600)}室"
        yield SyntheticPerson(name, number, phone, address)
