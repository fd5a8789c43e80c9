"""The gazetteer of place names → speech/data/places/{china,inner_mongolia}.txt.

    python scripts/polyphones/make_gazetteer.py DIVISIONS_FOLDER

DIVISIONS_FOLDER holds provinces.csv, cities.csv, areas.csv and streets.csv of the National Bureau
of Statistics' 统计用区划代码 (2023), as compiled by modood/Administrative-divisions-of-China on
GitHub (dist/). Kept: the provinces and prefecture-level divisions of China; in Inner Mongolia
(code 15) its leagues and cities, its banners, counties and districts, and its towns, sumu and
streets (乡级). That compilation's village level (嘎查, 村) could not be had here.

Each name is read by the service's own front end (without the gazetteer), then the parts listed
in speech/data/places/place_readings.txt are laid over it. A county-level or higher name is also
kept without its ending (土默特左旗 → 土默特), a township's only when three characters or more
remain, so that everyday words are not taken for places.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from speech import pronounce  # noqa: E402
from speech.pronounce import parse_dictionary, read_characters  # noqa: E402

pronounce.GAZETTEERS = ()  # every name read afresh, not from the gazetteer this script made last

PLACES = Path(__file__).resolve().parents[2] / "speech/data/places"
ENDINGS = ("特别行政区", "维吾尔自治区", "回族自治区", "壮族自治区", "自治区", "自治州", "自治县", "自治旗", "地区",
           "左旗", "右旗", "前旗", "中旗", "后旗", "街道", "苏木", "省", "市", "盟", "旗", "县", "区", "镇", "乡")
GENERIC = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


def rows(folder: Path, name: str) -> list[dict[str, str]]:
    with open(folder / name, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def read_name(name: str, overrides: dict[str, list[str]]) -> str:
    syllables = [s for s, _ in read_characters(name)]
    for part, reading in overrides.items():
        start = name.find(part)
        while start >= 0:
            syllables[start:start + len(part)] = reading
            start = name.find(part, start + 1)
    return " ".join(syllables)


def bare(name: str) -> str:
    if name.endswith(("开发区", "园区", "管理区", "管委会", "合作区", "示范区")):
        return name  # an administrative zone has no short name of its own
    for ending in ENDINGS:
        if name.endswith(ending) and len(name) > len(ending):
            return name[: -len(ending)]
    return name


def write(path: Path, header: str, names: list[tuple[str, str]], overrides: dict[str, list[str]]) -> None:
    seen: dict[str, str] = {}
    for name, level in names:
        if name in GENERIC or not all("\u4e00" <= c <= "\u9fff" for c in name):
            continue
        short = bare(name)
        for word in (name, short):
            keep = len(word) >= (3 if level == "township" else 2)
            if keep and word not in seen:
                seen[word] = level
    lines = [f"{word}\t{read_name(word, overrides)}\t# {level}" for word, level in seen.items()]
    path.write_text(header + "\n".join(lines) + "\n", "utf-8")
    print(f"{path}: {len(lines)} names")


def main(folder: Path) -> None:
    overrides = {w: [s[0] for s in p] for w, p in parse_dictionary((PLACES / "place_readings.txt").read_text("utf-8"), "place_readings.txt").items()}
    source = "# Source of the names: 国家统计局《统计用区划代码和城乡划分代码》(2023), as modood/Administrative-divisions-of-China compiles it.\n"
    readings = "# Readings: tingwen's front end, with speech/data/places/place_readings.txt laid over (scripts/polyphones/make_gazetteer.py).\n# name<TAB>tone-numbered pinyin<TAB># level (as in pronunciations.txt: what follows # is a comment)\n"
    provinces = [(r["name"], "province") for r in rows(folder, "provinces.csv")]
    cities = [(r["name"], "prefecture") for r in rows(folder, "cities.csv")]
    write(PLACES / "china.txt", "# The provinces and prefecture-level divisions of China.\n" + source + readings, provinces + cities, overrides)
    mongolia = [(r["name"], "prefecture") for r in rows(folder, "cities.csv") if r["provinceCode"] == "15"]
    mongolia += [(r["name"], "county") for r in rows(folder, "areas.csv") if r["provinceCode"] == "15"]
    mongolia += [(r["name"], "township") for r in rows(folder, "streets.csv") if r["provinceCode"] == "15"]
    write(PLACES / "inner_mongolia.txt", "# Inner Mongolia: leagues and cities, banners, counties and districts, towns, sumu and streets.\n" + source + readings, mongolia, overrides)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
