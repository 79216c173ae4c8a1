"""indexer/whoosh_imports.py: Whoosh loads without urllib.request and its English stemmer, and both still work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
import indexer
from indexer import schema  # the Whoosh schema, fields, columns, analysis
import search.api
from whoosh import compat, qparser
from whoosh.query import terms
assert "urllib.request" not in sys.modules and "whoosh.lang.morph_en" not in sys.modules, sorted(sys.modules)
# the stand-ins Whoosh kept import the real thing when called
got = sorted(terms.variations("render"))
from whoosh.lang import morph_en
assert got == sorted(morph_en.variations("render")) and "rendering" in got
import urllib.request
assert hasattr(urllib.request, "urlopen") and urllib.request.__file__.endswith("request.py")
assert compat.urlretrieve("file://" + sys.argv[1])[0]  # a local file: the real urlretrieve ran
print("ok")
"""


def test_whoosh_loads_without_what_zhsearch_never_uses(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("x")
    out = subprocess.run([sys.executable, "-c", PROBE, str(f)], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
