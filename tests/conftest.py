"""Shared fixtures. The article pool lives outside the repository (publishers' copyright):
tests that need it skip cleanly where ../shared is absent."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

# A suite started in the background by a shell without job control (`make test &`, some CI
# runners) inherits SIGINT ignored, and so would every zhsearch it starts, which then could not
# be interrupted: the Ctrl-C tests (test_faults, test_serve) need Python's own handler.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# The user cache (indexer/user_cache.py) of this run: the suite leaves nothing in ~/.cache,
# and makes its files once, in whichever process (this one or a `zhsearch` it starts) comes first.
if "ZHSEARCH_CACHE" not in os.environ:
    _CACHE = tempfile.mkdtemp(prefix="zhsearch-test-cache-")
    os.environ["ZHSEARCH_CACHE"] = _CACHE
    atexit.register(shutil.rmtree, _CACHE, True)

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ZHSEARCH_SHARED") or ROOT.parent / "shared")
POOL = SHARED / "corpus-pool" / "articles"
CORPUS = ROOT / "corpus"  # the shipped demo corpus: the seed and VOA's own articles
SEED = CORPUS / "000_ce5ff053ee2986c6.txt"


def pool_files() -> list[Path]:
    return sorted(p for p in POOL.rglob("*") if p.is_file() and p.suffix in (".md", ".txt"))


@pytest.fixture(scope="session")
def pool_dir() -> Path:
    if not POOL.is_dir():
        pytest.skip(f"the shared article pool is absent ({POOL}); set ZHSEARCH_SHARED to its folder")
    return POOL


@pytest.fixture(scope="session")
def pool_index(pool_dir, tmp_path_factory):
    """The whole pool indexed once per test run (it takes a while): (index_dir, summary, warnings)."""
    from indexer import update_index

    index_dir = tmp_path_factory.mktemp("pool") / "index"
    warnings: list[tuple[str, str]] = []
    summary = update_index([pool_dir], index_dir, on_warning=lambda p, r: warnings.append((p, r)))
    return index_dir, summary, warnings


@pytest.fixture(scope="session")
def pool_ix(pool_index):
    import search

    ix = search.open_index(pool_index[0])
    yield ix
    ix.close()


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory) -> Path:
    """corpus/ indexed once per test run: real articles wherever the pool is absent."""
    from indexer import update_index

    index_dir = tmp_path_factory.mktemp("corpus") / "index"
    update_index([CORPUS], index_dir)
    return index_dir


@pytest.fixture(scope="session")
def corpus_ix(corpus_index):
    import search

    ix = search.open_index(corpus_index)
    yield ix
    ix.close()


@pytest.fixture
def seed_corpus(tmp_path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    return corpus


@pytest.fixture
def seed_ix(seed_corpus, tmp_path):
    import search
    from indexer import update_index

    update_index([seed_corpus], tmp_path / "index")
    ix = search.open_index(tmp_path / "index")
    yield ix
    ix.close()
