"""Regenerate search/data/variants-mediawiki.txt from MediaWiki's Chinese conversion tables.

    pip install -e '.[data]'          # zhconv, which packages MediaWiki's ZhConversion tables
    python scripts/build_variants.py  # or: make variants-data

MediaWiki's tables (zh2CN, zh2TW, zh2HK) map a phrase to its mainland, Taiwan and Hong Kong
form. A table key and its forms, each converted to simplified script by zhsearch's own
normaliser, are one group when at least two of them still differ (悉尼 / 雪梨, 奥巴马 / 欧巴马);
groups that share a form are merged. Most of the tables are vocabulary (软件 / 软体, 着 / 著),
so a group is kept only when it names something: every one of its forms that jieba's
dictionary knows is tagged as a name (person, place, organisation, other proper noun), and at
least one is known; or one of its forms is in KEEP (names jieba does not know). Forms that are
not a run of two or more Chinese characters are dropped, and so are the forms in DROP (an
everyday word, or another entity): the README lists them.

The output is derived from MediaWiki and so keeps MediaWiki's licence, GPL-2.0-or-later
(search/data/variants-mediawiki.COPYING); zhsearch's code is MIT. zhconv is needed only here,
never at run time.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata, resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.analysis import HAN_RUN_RE, normalize  # noqa: E402

OUT = ROOT / "search" / "data" / "variants-mediawiki.txt"
NAME_TAGS = {"nr", "nrt", "nrfg", "ns", "nt", "nz"}

# A form that names something else too, or is an everyday word: matching it would find
# articles about that instead. Dropping the form keeps the rest of its group.
DROP = {
    "雪梨": "a pear (雪梨 Sydney in Taiwan)",
    "狮子山": "Lion Rock, a Hong Kong hill (Sierra Leone in Taiwan)",
    "詹森": "Jensen, Janssen and other names (Lyndon Johnson in Taiwan)",
    "罗亚尔": "Ségolène Royal (the Loire in Hong Kong)",
    "素檀": "a sultan, not Sudan",
    "苏丹": "Sudan and a sultan alike",
    "亚历山卓": "Alexandria, not Alexander",
    "尼日": "a prefix of 尼日利亚 (Nigeria): it would match every Nigeria story",
    "乔治亚": "both the US state and the country",
    "佐治亚": "the US state, grouped by MediaWiki with the country Georgia",
    "格鲁吉亚": "the country, grouped by MediaWiki with the US state Georgia",
    "里氏": "a surname (Mr Li), besides the Richter scale",
    "芮氏": "the Richter scale, not a name",
    "黎克特制": "the Richter scale, not a name",
    "富豪": "a rich person (Volvo in Hong Kong)",
    "沃尓沃": "its group's other form is 富豪, a rich person",
    "查德": "Chad the person as often as Chad the country",
    "米高": "a prefix of 米高梅 (MGM)",
}
# Groups that are not names although jieba tags a form as one (its tags are noisy).
NOT_NAMES = {
    "克隆", "克隆人", "吉他", "大姐姐", "蓝牙", "万维网", "智能卡", "触摸屏", "氨基酸", "以太网",
    "高清化", "公共交通", "真人秀", "海洛因", "福尔马林", "哥特式", "桑巴舞", "艾滋",
}
# Names that jieba's dictionary does not know, kept by hand from the untagged groups.
KEEP = {
    "昂山素季", "基地组织", "埃博拉", "索尔仁尼琴", "索马里兰", "卑诗省", "菲利普亲王", "约翰斯顿岛",
    "普利策奖", "纽黑文", "圣赫勒拿", "石勒苏益格", "罗纳尔迪尼奥", "乞力马扎罗", "独立国家联合体",
    "波斯尼亚和黑塞哥维那", "塞尔维亚和黑山", "圣基茨和尼维斯", "圣文森特和格林纳丁斯", "宝莱坞",
    "太阳微系统", "迈凯轮", "门德尔松",
}


def _jieba_tags() -> dict[str, str]:
    import jieba

    tags = {}
    with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as fh:
        for line in fh:
            word, _, tag = line.split()
            tags[word] = tag
    return tags


def _raw_groups(tables: dict) -> list[set[str]]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    locales = ("zh2CN", "zh2TW", "zh2HK")
    for key in sorted(set().union(*(tables[t] for t in locales))):
        forms = sorted({normalize(key)} | {normalize(tables[t][key]) for t in locales if key in tables[t]})
        for form in forms[1:]:
            parent[find(form)] = find(forms[0])
    groups: dict[str, set[str]] = {}
    for form in parent:
        groups.setdefault(find(form), set()).add(form)
    return [g for g in groups.values() if len(g) > 1]


def name_groups(tables: dict, tags: dict[str, str]) -> list[list[str]]:
    out = []
    for group in _raw_groups(tables):
        forms = sorted(f for f in group if len(f) >= 2 and HAN_RUN_RE.fullmatch(f))
        if len(forms) < 2 or group & NOT_NAMES:
            continue
        known = [tags[f] for f in forms if f in tags]
        if not (group & KEEP or known and all(t in NAME_TAGS for t in known)):
            continue
        forms = [f for f in forms if f not in DROP]
        if len(forms) >= 2:
            # the form jieba knows best first: it is what the README and reports show
            out.append(sorted(forms, key=lambda f: (f not in tags, f)))
    return sorted(out)


def main() -> int:
    tables = json.loads(resources.files("zhconv").joinpath("zhcdict.json").read_text(encoding="utf-8"))
    groups = name_groups(tables, _jieba_tags())
    version = metadata.version("zhconv")
    header = [
        "# Name variants across regions, from MediaWiki's Chinese conversion tables (ZhConversion:",
        f"# zh2CN, zh2TW, zh2HK) as packaged by zhconv {version}; generated by scripts/build_variants.py,",
        "# do not edit by hand (hand-kept groups: variants-curated.txt).",
        "# Licence: GPL-2.0-or-later, as MediaWiki (variants-mediawiki.COPYING); zhsearch's code is MIT.",
        "# One group per line, variants in simplified script separated by spaces.",
    ]
    OUT.write_text("\n".join(header + [" ".join(g) for g in groups]) + "\n", encoding="utf-8")
    print(f"{OUT.relative_to(ROOT)}: {len(groups)} groups, {sum(map(len, groups))} variants", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
