"""Import Whoosh without the two modules it loads at import and zhsearch never uses.

`whoosh.compat` imports `urlretrieve` from `urllib.request`, which brings in http.client,
email, ssl and socket (~25 ms), and `whoosh.query.terms` imports `variations` from
`whoosh.lang.morph_en`, which compiles a few hundred English suffix regexes (~15 ms): ~40 ms
of a cold search of ~0.5 s, for a URL download and an English stemmer. While those two
Whoosh modules load, the names they take are stand-ins that import the real thing when first
called; the stand-in modules are then taken out of sys.modules, so any later import of
urllib.request or morph_en (serve, a user's script) gets the real module. Whoosh is pinned
(Whoosh==2.7.4): an upgrade that imports other names from them gets the real modules, as the
stand-ins are only put where the module is not loaded yet and only hold these two names.
"""

from __future__ import annotations

import importlib
import sys
import types


def _deferred(module: str, name: str):
    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = name
    return call


def import_whoosh_lightly() -> None:
    if "whoosh.query" in sys.modules:
        return
    stand_ins = {"urllib.request": "urlretrieve", "whoosh.lang.morph_en": "variations"}
    placed = []
    for module, name in stand_ins.items():
        if module not in sys.modules:
            stub = types.ModuleType(module)
            setattr(stub, name, _deferred(module, name))
            sys.modules[module] = stub
            placed.append(module)
    try:
        import whoosh.compat  # noqa: F401
        import whoosh.query  # noqa: F401  (imports whoosh.query.terms)
    finally:
        for module in placed:
            del sys.modules[module]
