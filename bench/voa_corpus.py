"""Select the demo corpus: the pool's Voice of America articles that are VOA's own work.

VOA's texts are US government works, in the public domain; what VOA republishes from a news
agency is not. A file that names a news agency anywhere (the list below, in Chinese or
English) may hold agency copy, so it is left out. Kept files are copied byte for byte, named
``voa-<id>.md`` after the pool file's numeric id (the pool's names hold full-width colons,
question marks and trailing spaces).

    python bench/voa_corpus.py            # copy the selection into corpus/
    python bench/voa_corpus.py --check    # exit 1 unless corpus/ holds exactly the selection
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pool import ROOT, pool_dir  # noqa: E402

CORPUS = ROOT / "corpus"
VOA_FOLDER = "美国之音"
# The title line of a VOA article, as the project's pre-stop hook checks it.
VOA_TITLE_LINE = re.compile(rb"^\[.*\]\(https?://www\.voachinese\.com/", re.M)

# News agencies, by their Chinese names (as VOA's Chinese service writes them) and English
# names, simplified and traditional. 美联社 rather than 美联 (美联储 is the Federal Reserve); 路透
# also catches 路透中文网; 通讯社 ("news agency") catches the rest, such as 共同通讯社.
WIRE_SERVICES = (
    "美联社", "美聯社", "路透", "法新社", "彭博", "合众国际社", "合眾國際社", "国际合众社", "國際合眾社",
    "新华社", "新華社", "中新社", "中央社", "共同社", "韩联社", "韓聯社", "塔斯社", "德新社", "埃菲社",
    "安莎社", "通讯社", "通訊社",
    "Associated Press", "AP", "Reuters", "AFP", "Agence France-Presse", "Bloomberg", "UPI",
    "Xinhua", "Kyodo", "Yonhap", "TASS", "EFE",
)
# Latin names as whole words only: "AP" and "EFE" turn up inside image GUIDs and words.
WIRE_SERVICE = re.compile(
    "|".join(re.escape(w) if not w.isascii() else rf"(?<![A-Za-z0-9]){re.escape(w)}(?![A-Za-z0-9])"
             for w in WIRE_SERVICES).encode()
)
_ID = re.compile(r"^(\d+)_")


def names_wire_service(data: bytes) -> bool:
    return WIRE_SERVICE.search(data) is not None


def corpus_name(pool_file: Path) -> str:
    m = _ID.match(pool_file.name)
    if not m:
        raise ValueError(f"pool file name without a numeric id: {pool_file.name!r}")
    return f"voa-{m.group(1)}.md"


def selection(pool: Path) -> dict[str, bytes]:
    """Corpus file name → content, for every VOA file that is VOA's own work."""
    out = {}
    for path in sorted((pool / VOA_FOLDER).glob("*.md")):
        data = path.read_bytes()
        if VOA_TITLE_LINE.search(data) and not names_wire_service(data):
            out[corpus_name(path)] = data
    return out


def committed() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in CORPUS.glob("voa-*.md")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare corpus/ with the selection, change nothing")
    args = parser.parse_args()
    pool = pool_dir()
    if not (pool / VOA_FOLDER).is_dir():
        print(f"voa_corpus: no VOA folder in the pool ({pool / VOA_FOLDER})", file=sys.stderr)
        return 2
    wanted = selection(pool)
    total = len(list((pool / VOA_FOLDER).glob("*.md")))
    have = committed()
    if args.check:
        ok = have == wanted
        print(f"{len(wanted)} of {total} VOA files selected; corpus/ {'matches' if ok else 'differs'}")
        return 0 if ok else 1
    for name in have.keys() - wanted.keys():
        (CORPUS / name).unlink()
    for name, data in wanted.items():
        if have.get(name) != data:
            (CORPUS / name).write_bytes(data)
    print(f"{len(wanted)} of {total} VOA files copied to {CORPUS}; {total - len(wanted)} name a news agency")
    return 0


if __name__ == "__main__":
    sys.exit(main())
