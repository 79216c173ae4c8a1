"""What the index records of each article's arrival, and `new` (issue 13).

Each test indexes a few articles, runs the indexer again after adding, editing or removing
files, and checks what `new`, `stats()` and the per-document columns say.
"""

from __future__ import annotations

import orjson
import pytest

import search
from indexer import arrivals, store, update_index

from .test_search import write_article


def _write(corpus, name, title, body=None):
    body = body or f"卡塔尔斡旋{title}。"  # a body of its own: not a copy of another story
    return write_article(corpus, f"{name}.md", title=title, url=f"https://www.rfi.fr/cn/{name}", body=body)


def _new_urls(index_dir, query="卡塔尔") -> set[str]:
    with search.open_index(index_dir) as ix:
        hits = ix.search(query, limit=0, new=True)
        assert sum(p.count for p in ix.timeline(query, new=True)) == hits.total
        return {h.url for h in hits}


def _columns(index_dir) -> dict[str, tuple[int, int]]:
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(store.current_generation_dir(index_dir)))
    with ix.searcher() as s:
        return arrivals.read_documents(s)


def _last(index_dir):
    with search.open_index(index_dir) as ix:
        st = ix.stats()
    return st.last_added, st.last_changed, st.last_removed


@pytest.fixture
def three(tmp_path):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    for name in ("a", "b", "c"):
        _write(corpus, name, f"卡塔尔 {name}")
    update_index([corpus], index_dir)
    return corpus, index_dir


def url(name: str) -> str:
    return f"https://www.rfi.fr/cn/{name}"


def test_first_run_adds_everything(three):
    corpus, index_dir = three
    assert _new_urls(index_dir) == {url("a"), url("b"), url("c")}
    assert _last(index_dir) == (3, 0, 0)
    with search.open_index(index_dir) as ix:
        st = ix.stats()
    assert st.last_change is not None and st.to_dict()["last_change"] == st.last_change.isoformat()
    assert {"last_change", "last_added", "last_changed", "last_removed", "documents"} <= st.to_dict().keys()


def test_new_is_what_the_last_changing_run_added_or_changed(three):
    corpus, index_dir = three
    before = _columns(index_dir)
    _write(corpus, "b", "卡塔尔 b 改")
    _write(corpus, "d", "卡塔尔 d")
    update_index([corpus], index_dir)
    assert _new_urls(index_dir) == {url("b"), url("d")}
    assert _last(index_dir) == (1, 1, 0)
    after = _columns(index_dir)
    assert after[url("a")] == before[url("a")]  # untouched
    assert after[url("b")][0] == before[url("b")][0] < after[url("b")][1]  # first arrival kept
    assert after[url("d")][0] == after[url("d")][1] == after[url("b")][1]

    update_index([corpus], index_dir)  # nothing changed: the last change is still the same
    assert _new_urls(index_dir) == {url("b"), url("d")} and _last(index_dir) == (1, 1, 0)

    (corpus / "a.md").unlink()
    update_index([corpus], index_dir)  # a run that only removes: nothing is new
    assert _new_urls(index_dir) == set() and _last(index_dir) == (0, 0, 1)


def test_rebuild_keeps_arrivals(three):
    corpus, index_dir = three
    _write(corpus, "c", "卡塔尔 c 改")
    update_index([corpus], index_dir)
    before = _columns(index_dir)
    update_index([corpus], index_dir, rebuild=True)
    assert _columns(index_dir) == before
    assert _new_urls(index_dir) == {url("c")} and _last(index_dir) == (0, 1, 0)

    _write(corpus, "a", "卡塔尔 a 改")
    update_index([corpus], index_dir, rebuild=True)  # a rebuild that finds an edit reports it
    after = _columns(index_dir)
    assert _new_urls(index_dir) == {url("a")} and _last(index_dir) == (0, 1, 0)
    assert after[url("a")][0] == before[url("a")][0] < after[url("a")][1]
    assert after[url("b")] == before[url("b")]


def test_new_on_an_index_that_does_not_record_arrivals(three):
    corpus, index_dir = three
    gen_dir = store.current_generation_dir(index_dir)
    meta = orjson.loads((gen_dir / store.META).read_bytes())
    del meta["changes"]  # what a release before this one wrote
    (gen_dir / store.META).write_bytes(orjson.dumps(meta))
    with search.open_index(index_dir) as ix:
        assert ix.search("卡塔尔").total == 3  # searching without `new` still works
        assert ix.stats().last_change is None
        with pytest.raises(search.IndexVersionMismatch, match="--rebuild"):
            ix.search("卡塔尔", new=True)
        with pytest.raises(search.IndexVersionMismatch, match="--rebuild"):
            ix.timeline("卡塔尔", new=True)
    update_index([corpus], index_dir, rebuild=True)
    assert _new_urls(index_dir) == {url("a"), url("b"), url("c")}


def test_a_failed_commit_leaves_the_snapshot_its_own_record(three, monkeypatch):
    corpus, index_dir = three
    from indexer.segment import BulkWriter

    def fail(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    _write(corpus, "e", "卡塔尔 e")
    monkeypatch.setattr(BulkWriter, "commit", fail)
    with pytest.raises(search.ZhsearchError):
        update_index([corpus], index_dir)
    monkeypatch.undo()
    # the record of the failed run is in the meta, but the snapshot is the previous commit's
    assert _new_urls(index_dir) == {url("a"), url("b"), url("c")} and _last(index_dir) == (3, 0, 0)
    update_index([corpus], index_dir)
    assert _new_urls(index_dir) == {url("e")} and _last(index_dir) == (1, 0, 0)


def test_last_change_picks_the_record_of_the_snapshot():
    meta: dict = {}
    for gen, stamp in ((1, 10), (2, 20), (3, 30)):
        meta = arrivals.with_change(meta, arrivals.Change(gen, stamp, 1, 0, 0))
    assert arrivals.last_change(meta, 2).stamp == 20 and arrivals.last_change(meta, None).stamp == 30
    meta = arrivals.with_change(meta, arrivals.Change(2, 25, 0, 1, 0))  # generation 2 made again
    assert [c["generation"] for c in meta["changes"]] == [1, 2] and arrivals.last_change(meta, 9).stamp == 25
    for gen in range(3, 20):
        meta = arrivals.with_change(meta, arrivals.Change(gen, gen, 0, 0, 1))
    assert len(meta["changes"]) == arrivals.KEEP and arrivals.last_change(meta, 1) is None


def test_first_articles_after_an_empty_run(tmp_path):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    update_index([corpus], index_dir)  # an index without documents
    assert _last(index_dir) == (0, 0, 0)
    _write(corpus, "a", "卡塔尔 a")
    update_index([corpus], index_dir)
    assert _new_urls(index_dir) == {url("a")} and _last(index_dir) == (1, 0, 0)
