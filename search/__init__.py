"""zhsearch's search API.

    import search
    with search.open_index("index") as ix:
        hits = ix.search("卡塔尔 人质", limit=10)
        for h in hits:
            print(h.rank, h.title, h.snippet)

Names load on first use (PEP 562): the CLI imports only what a command needs.
"""

_EXPORTS = {
    "open_index": "api", "Index": "api", "Hit": "values", "Hits": "values", "IndexStats": "api", "StoredArticle": "api",
    "Facets": "values", "Period": "values",
    "IndexNotFound": "errors", "IndexUnusable": "errors", "IndexVersionMismatch": "errors",
    "QuerySyntaxError": "errors", "ZhsearchError": "errors", "IndexClosed": "errors", "ArticleNotFound": "errors",
    "VariantsError": "errors", "VariantGroups": "variants", "read_variants": "variants",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    import importlib

    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = _EXPORTS[name]
    if module == "errors":
        return getattr(importlib.import_module("indexer.errors"), name)
    return getattr(importlib.import_module(f".{module}", __name__), name)
