"""update_index: incremental runs, duplicates, rebuilds, locking, versions, the whole pool."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import orjson
import pytest

import indexer.writer as writer_mod
from indexer import store, update_index
from indexer.errors import CorpusNotFound, IndexLocked, IndexUnusable, IndexVersionMismatch
from indexer.lock import WriteLock
from indexer.reader import parse_article

from .conftest import SEED

ARTICLE = """<!--{ms}-->
[{title}]({url})
------

<div>01/07/2020 - 10:00</div><p><strong>{lead}</strong></p><div><p>{body}</p></div>
"""


def article(title="测试标题", url="https://www.rfi.fr/cn/test/1", ms=1593597600000, lead="导语。", body="正文内容。") -> bytes:
    return ARTICLE.format(ms=ms, title=title, url=url, lead=lead, body=body).encode()


def write(path: Path, data: bytes, mtime: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def urls(index_dir: Path) -> dict[str, dict]:
    import search

    with search.open_index(index_dir) as ix:
        s = ix._searcher
        return {d["url"]: d for d in s.all_stored_fields()}


@pytest.fixture
def reads(monkeypatch):
    """Records every file the indexer reads."""
    seen: list[str] = []
    real = writer_mod._read

    def spy(path):
        seen.append(os.path.basename(path))
        return real(path)

    monkeypatch.setattr(writer_mod, "_read", spy)
    return seen


def test_seed_is_indexed(seed_corpus, tmp_path):
    s = update_index([seed_corpus], tmp_path / "ix")
    assert (s.seen, s.new, s.changed, s.removed, s.skipped, s.documents) == (1, 1, 0, 0, 0, 1)
    docs = urls(tmp_path / "ix")
    (doc,) = docs.values()
    assert doc["title"] == "卡塔尔斡旋哈马斯释放人质"
    assert doc["path"] == SEED.name
    assert doc["source"] == "RFI"


def test_rerun_reads_nothing(seed_corpus, tmp_path, reads):
    update_index([seed_corpus], tmp_path / "ix")
    assert reads == [SEED.name]
    reads.clear()
    s = update_index([seed_corpus], tmp_path / "ix")
    assert reads == []
    assert (s.new, s.changed, s.removed, s.unchanged, s.documents) == (0, 0, 0, 1, 1)


def test_add_change_delete_one_file(tmp_path, reads):
    corpus, ix = tmp_path / "c", tmp_path / "ix"
    a = write(corpus / "a.md", article(url="https://www.dw.com/zh/a/1", title="甲"))
    write(corpus / "b.md", article(url="https://www.dw.com/zh/b/2", title="乙"))
    update_index([corpus], ix)
    reads.clear()

    write(corpus / "sub" / "c.txt", article(url="https://www.dw.com/zh/c/3", title="丙"))
    s = update_index([corpus], ix)
    assert reads == ["c.txt"] and (s.new, s.changed, s.removed, s.documents) == (1, 0, 0, 3)
    assert urls(ix)["https://www.dw.com/zh/c/3"]["path"] == "sub/c.txt"

    reads.clear()
    write(a, article(url="https://www.dw.com/zh/a/1", title="甲改"))
    s = update_index([corpus], ix)
    assert reads == ["a.md"] and (s.new, s.changed, s.removed) == (0, 1, 0)
    assert urls(ix)["https://www.dw.com/zh/a/1"]["title"] == "甲改"

    reads.clear()
    (corpus / "b.md").unlink()
    s = update_index([corpus], ix)
    assert reads == [] and (s.new, s.changed, s.removed, s.documents) == (0, 0, 1, 2)
    assert "https://www.dw.com/zh/b/2" not in urls(ix)


def test_touched_file_is_hashed_once_and_not_rewritten(tmp_path, reads):
    corpus, ix = tmp_path / "c", tmp_path / "ix"
    a = write(corpus / "a.md", article(), mtime=1_600_000_000)
    update_index([corpus], ix)
    gen = store.current_generation_dir(ix)
    from whoosh import index as wi

    before = wi.open_dir(gen).latest_generation()
    os.utime(a, (1_700_000_000, 1_700_000_000))
    reads.clear()
    s = update_index([corpus], ix)
    assert reads == ["a.md"] and (s.changed, s.unchanged) == (0, 1)
    assert wi.open_dir(gen).latest_generation() == before  # no commit: nothing was re-indexed
    reads.clear()
    update_index([corpus], ix)
    assert reads == []


def test_moved_corpus_is_not_reindexed(seed_corpus, tmp_path, reads):
    update_index([seed_corpus], tmp_path / "ix")
    moved = tmp_path / "elsewhere"
    shutil.copytree(seed_corpus, moved, copy_function=shutil.copy2)
    reads.clear()
    s = update_index([moved], tmp_path / "ix")
    assert reads == [] and (s.new, s.removed, s.unchanged) == (0, 0, 1)


def test_duplicate_url_newer_wins_and_comes_back(tmp_path):
    corpus, ix = tmp_path / "c", tmp_path / "ix"
    url = "https://www.rfa.org/mandarin/x.html"
    write(corpus / "old.md", article(url=url, title="旧版", ms=1593597600000))
    write(corpus / "new.md", article(url=url.replace("https", "http"), title="新版", ms=1593684000000))
    s = update_index([corpus], ix)
    assert (s.documents, s.duplicates) == (1, 1)
    assert urls(ix)[url]["title"] == "新版"

    (corpus / "new.md").unlink()
    s = update_index([corpus], ix)
    assert (s.documents, s.duplicates, s.removed) == (1, 0, 1)
    assert urls(ix)[url]["title"] == "旧版"


def test_duplicate_tie_goes_to_file_modified_last(tmp_path):
    corpus, ix = tmp_path / "c", tmp_path / "ix"
    url = "https://www.rfa.org/mandarin/y.html"
    write(corpus / "a.md", article(url=url, title="先"), mtime=1_600_000_000)
    write(corpus / "b.md", article(url=url, title="后"), mtime=1_600_000_100)
    update_index([corpus], ix)
    assert urls(ix)[url]["title"] == "后"


def test_bad_files_warn_and_run_goes_on(tmp_path):
    corpus, ix = tmp_path / "c", tmp_path / "ix"
    write(corpus / "good.md", article())
    write(corpus / "empty.md", b"")
    write(corpus / "garbage.md", bytes(range(256)) * 20)
    write(corpus / "picture.jpg", b"\xff\xd8\xff")
    (corpus / "folder.md").mkdir()
    warned: list[tuple[str, str]] = []
    s = update_index([corpus], ix, on_warning=lambda p, r: warned.append((os.path.basename(p), r)))
    assert s.documents == 1 and s.skipped == 2
    assert sorted(name for name, _ in warned) == ["empty.md", "garbage.md"]
    assert all(reason for _, reason in warned)


def test_good_file_turned_bad_keeps_its_document(tmp_path):
    corpus, ix = tmp_path / "c", tmp_path / "ix"
    a = write(corpus / "a.md", article(title="原文"))
    update_index([corpus], ix)
    write(a, b"\x00\x01 half written")
    s = update_index([corpus], ix)
    assert s.skipped == 1
    assert [d["title"] for d in urls(ix).values()] == ["原文"]


def test_rebuild_swaps_generation(seed_corpus, tmp_path):
    ix = tmp_path / "ix"
    update_index([seed_corpus], ix)
    first = store.current_generation_dir(ix)
    s = update_index([seed_corpus], ix, rebuild=True)
    second = store.current_generation_dir(ix)
    assert s.rebuilt and s.new == 1 and second != first and not first.exists()
    assert len(urls(ix)) == 1


def test_second_indexer_is_told_who_holds_the_lock(seed_corpus, tmp_path):
    ix = tmp_path / "ix"
    update_index([seed_corpus], ix)
    held = WriteLock(ix)
    held.acquire()
    try:
        with pytest.raises(IndexLocked) as err:
            update_index([seed_corpus], ix, wait=0.2)
        assert f"pid {os.getpid()}" in str(err.value) and "since" in str(err.value)
    finally:
        held.release()
    update_index([seed_corpus], ix, wait=0)


def test_version_change_asks_for_rebuild(seed_corpus, tmp_path):
    ix = tmp_path / "ix"
    update_index([seed_corpus], ix)
    meta_path = store.current_generation_dir(ix) / store.META
    meta = orjson.loads(meta_path.read_bytes())
    meta["analysis_version"] = -1
    meta_path.write_bytes(orjson.dumps(meta))
    with pytest.raises(IndexVersionMismatch, match="--rebuild"):
        update_index([seed_corpus], ix)
    assert update_index([seed_corpus], ix, rebuild=True).documents == 1


def test_refuses_to_write_into_unrelated_folder(seed_corpus, tmp_path):
    other = tmp_path / "photos"
    write(other / "holiday.jpg", b"x")
    with pytest.raises(IndexUnusable, match="neither a zhsearch index nor empty"):
        update_index([seed_corpus], other)
    assert sorted(p.name for p in other.iterdir()) == ["holiday.jpg"]


def test_missing_corpus_folder(tmp_path):
    with pytest.raises(CorpusNotFound):
        update_index([tmp_path / "nope"], tmp_path / "ix")


def test_whole_pool_indexes_without_errors(pool_index, pool_dir):
    from .conftest import pool_files

    index_dir, summary, warnings = pool_index
    files = pool_files()
    assert summary.seen == len(files) == 4470
    assert summary.skipped == 0
    # Image-only posts (a CDT cartoon) are indexed by their title, with a note.
    assert [reason for _, reason in warnings if reason != "no body text"] == []
    # SOURCE.md: the same URL saved twice by RFA 25, CDT 12, FT 2, VOA 1 times.
    assert summary.duplicates == 40
    assert summary.documents == len(files) - summary.duplicates


def test_pool_rerun_touches_nothing(pool_index, pool_dir, reads):
    index_dir, first, _ = pool_index
    s = update_index([pool_dir], index_dir)
    assert reads == []
    assert (s.new, s.changed, s.removed, s.unchanged, s.documents) == (0, 0, 0, first.seen, first.documents)


def test_two_folders_with_one_relative_path_index_the_first_and_warn(tmp_path):
    """A file's identity is its path below its corpus folder (so a moved corpus is not read
    again): two folders given at once that hold the same relative path cannot both be indexed."""
    voa = sorted(SEED.parent.glob("voa-*.md"))[:2]
    top = tmp_path / "corpus"
    a, b = top / "a", top / "b"
    write(a / "x.md", SEED.read_bytes())
    write(b / "x.md", voa[0].read_bytes())
    write(b / "y.md", voa[1].read_bytes())
    warned: list[tuple[str, str]] = []
    s = update_index([a, b], tmp_path / "ix", on_warning=lambda p, r: warned.append((p, r)))
    assert s.documents == 2
    assert warned == [(str(b / "x.md"), f"same relative path as {a / 'x.md'}; only the first is indexed")]
    indexed = set(urls(tmp_path / "ix"))
    assert _url(SEED) in indexed and _url(voa[1]) in indexed and _url(voa[0]) not in indexed
    # Their parent folder tells them apart: all three are indexed, without a warning.
    warned.clear()
    s = update_index([top], tmp_path / "ix2", on_warning=lambda p, r: warned.append((p, r)))
    assert s.documents == 3 and warned == []
    assert set(urls(tmp_path / "ix2")) == {_url(SEED), _url(voa[0]), _url(voa[1])}


def _url(path: Path) -> str:
    return parse_article(path.read_bytes(), path.name).url
