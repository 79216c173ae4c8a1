"""zhsearch's indexer: read article files, analyse them, keep a Whoosh index up to date.

    from indexer import update_index
    summary = update_index(["corpus"], "index")

Names load on first use (PEP 562), so `import indexer.errors` costs nothing extra.
"""

from .whoosh_imports import import_whoosh_lightly

import_whoosh_lightly()  # before any module of this package or of search imports Whoosh

# Megabytes of postings the indexer's processes hold in memory before each writes a segment
# (`zhsearch index --memory`). Less memory, more segments, slower queries: at x20 (89,400
# articles) 96 -> peak 468 MB, 139 segments, query p95 72 ms; 112 -> 486 MB, 46 ms;
# 128 -> 500-502 MB (README, "Performance").
MEMORY_MB = 112

_EXPORTS = {
    "update_index": "writer", "IndexSummary": "writer",
    "parse_article": "reader", "Article": "reader",
    "ArticleParseError": "errors", "IndexLocked": "errors", "ZhsearchError": "errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
