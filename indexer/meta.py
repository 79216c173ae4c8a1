"""What an index records of how it was built (zhsearch.json), and the check that refuses a mismatch.

Its own module, for searches read it too and must not import the writer (and the article
reader behind it) to do so.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from . import analysis, store
from .errors import IndexUnusable, IndexVersionMismatch


def index_meta(userdict: analysis.UserDict | None = None) -> dict:
    """What an index built now records; only the versions and the user dictionary are checked."""
    from .schema import SCHEMA_VERSION

    return {
        "schema_version": SCHEMA_VERSION,
        "analysis_version": analysis.ANALYSIS_VERSION,
        "userdict": None if userdict is None else userdict.to_meta(),
        "opencc": analysis.opencc_version(),  # for the record: t2s dictionaries change little
    }


def check_meta(gen_dir: Path, index_dir: Path, userdict: analysis.UserDict | None = None) -> analysis.UserDict | None:
    """Refuse an index whose analysis differs from this release's, rather than mix two.

    Returns the user dictionary the index was built with (None: none). With `userdict`
    (the one asked for, e.g. by `--userdict`), refuse an index built with another.
    """
    from .schema import SCHEMA_VERSION

    meta = store.read_meta(gen_dir)
    expected = {"schema_version": SCHEMA_VERSION, "analysis_version": analysis.ANALYSIS_VERSION}
    diffs = [f"{k} {meta.get(k)!r} (this zhsearch: {v!r})" for k, v in expected.items() if meta.get(k) != v]
    if diffs:
        raise IndexVersionMismatch(
            f"the index at {index_dir} was built with {', '.join(diffs)}; "
            f"run `zhsearch index --rebuild` to rebuild it"
        )
    try:
        built = analysis.UserDict.from_meta(meta.get("userdict"))
    except (ValueError, AttributeError) as exc:
        raise IndexUnusable(f"{gen_dir / store.META}: {exc}: the index is damaged; rebuild it") from None
    if userdict is not None and (built.entries if built else ()) != userdict.entries:
        flag = f" --userdict {shlex.quote(userdict.source)}" if userdict.source else ""
        raise IndexVersionMismatch(
            f"the index at {index_dir} was built with {analysis.describe_userdict(built)}, not with "
            f"{analysis.describe_userdict(userdict)}; a dictionary changes the words, so the index "
            f"must be rebuilt: run `zhsearch index --rebuild{flag}`"
        )
    return built
