"""indexer/segment.py, merge.py and parallel.py: the segments they write are the ones Whoosh would.

The reference is Whoosh's own SegmentWriter fed the same documents: every term, posting
(document, weight, value), term statistic, field length and stored field must be equal, read
back through Whoosh's own readers. Then the writer's other paths: several segments under a
small memory bound, merges (by the tiered policy, with deletions, and --compact), and a build
split between two processes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from whoosh import index as whoosh_index

import indexer.parallel as parallel
import search
from indexer import schema as S
from indexer import store, update_index
from indexer.reader import parse_article
from indexer.codec.w3 import INLINE_LIMIT, lengths
from indexer.segment import BulkWriter

from .conftest import POOL, SEED, pool_files

INDEXED = ("title", "lead", "body", "url", "source")  # story, published: columns only


def sample_articles(n: int):
    """n real articles spread over the pool (the seed alone without the pool)."""
    files = pool_files()[:: max(1, 4470 // n)][:n] if POOL.is_dir() else [SEED]
    return [parse_article(p.read_bytes(), p.name) for p in files]


def build(path: Path, articles, bulk: bool, memory_limit: int | None = None):
    path.mkdir(parents=True)
    ix = whoosh_index.create_in(str(path), S.build_schema())
    w = BulkWriter(ix) if bulk else ix.writer()
    if memory_limit is not None:
        w.memory_limit = memory_limit
    for a in articles:
        doc = S.to_document(a)
        if not bulk:  # Whoosh's own writer analyses the values (the character index is ours alone)
            doc.pop("_terms")
            doc.update(title=a.title, lead=a.lead, body=a.body)
        w.add_document(**doc)
    w.commit()
    return whoosh_index.open_dir(str(path))


def postings(reader, field, term):
    m = reader.postings(field, term)
    out = []
    while m.is_active():
        # An inlined presence-only posting reads back '' where a block reads None.
        out.append((m.id(), m.weight(), m.value() or None))
        m.next()
    return out


def term_stats(reader, field, term):
    i = reader.term_info(field, term)
    return (i.weight(), i.doc_frequency(), i.min_length(), i.max_length(), i.max_weight(), i.min_id(), i.max_id())


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("segment")
    articles = sample_articles(300)
    return articles, build(root / "bulk", articles, True).reader(), build(root / "whoosh", articles, False).reader()


def test_same_terms_postings_and_statistics_as_whoosh(pair):
    _, ours, theirs = pair
    assert ours.doc_count_all() == theirs.doc_count_all()
    inlined = blocks = 0
    for field in INDEXED:
        terms = list(ours.lexicon(field))
        assert terms == list(theirs.lexicon(field)), field
        assert ours.field_length(field) == theirs.field_length(field), field
        for term in terms:
            assert postings(ours, field, term) == postings(theirs, field, term), (field, term)
            assert term_stats(ours, field, term) == term_stats(theirs, field, term), (field, term)
            inlined += ours.term_info(field, term).is_inlined()
            blocks += ours.doc_frequency(field, term) > 128
    assert inlined and (blocks or not POOL.is_dir())  # both kinds of posting list were compared


def test_same_stored_fields_and_lengths_as_whoosh(pair):
    _, ours, theirs = pair
    for d in range(ours.doc_count_all()):
        assert ours.stored_fields(d) == theirs.stored_fields(d)
        for field in ("title", "lead", "body"):
            assert ours.doc_field_length(d, field) == theirs.doc_field_length(d, field)
    # the whole column read at once, as search reads it, agrees with Whoosh's per-document reads
    for reader in (ours, theirs):
        for seg, base in reader.leaf_readers():
            for field in ("title", "lead", "body"):
                whoosh = [seg.doc_field_length(d, field) or 0 for d in range(seg.doc_count_all())]  # None for 0
                assert lengths(seg, field).tolist() == whoosh


@pytest.mark.parametrize("piece", [7, 300, 1 << 16])  # bytes read at a time: rows cut anywhere, longer than a piece, whole
def test_field_rows_are_whooshs_own_term_table_rows(pair, monkeypatch, piece):
    import indexer.codec.w3 as w3

    monkeypatch.setattr(w3, "ROWS_READ", piece)
    _, ours, _ = pair
    segreader = ours.leaf_readers()[0][0] if hasattr(ours, "leaf_readers") else ours
    table = segreader._terms._tindex
    for field in INDEXED + ("no such field",):
        got = [(key, info) for key, tag, info in w3.field_rows(segreader, field, "t")]
        if field not in segreader._terms._fieldmap:
            assert got == []
            continue
        prefix = segreader._terms._keycoder(field, b"")
        want = [(k[2:], v) for k, v in table.items_from(prefix) if k[:2] == prefix]
        assert got == want and len(got) > 0, field


def test_short_posting_lists_are_inlined_in_the_term_table(pair):
    _, ours, _ = pair
    for field in ("title", "body"):
        for term in list(ours.lexicon(field))[:500]:
            assert ours.term_info(field, term).is_inlined() == (ours.doc_frequency(field, term) <= INLINE_LIMIT)


def chars_urls(ix, term: str) -> set[str]:
    """The URLs of the documents whose character index holds `term`, over every segment."""
    from indexer.codec import chars

    r, out = ix.reader(), set()
    for seg, base in r.leaf_readers():
        reader = chars.CharsReader(chars.segment_path(ix.storage.folder, seg.segment()))
        ids = reader.ids(chars.term_key(term))
        out |= set() if ids is None else {r.stored_fields(base + d)["url"] for d in ids.tolist()}
        reader.close()
    return out


def without_merges(monkeypatch) -> None:
    """Commits publish the segments they wrote as they are (to see what the memory bound did)."""
    import indexer.merge as merge

    monkeypatch.setattr(merge, "merge_segments", lambda writer, old, new, compact=False, progress=None: old + new)


@pytest.mark.parametrize("merging", [False, True])  # the segments as written, or merged by the commit
def test_memory_bound_writes_several_segments_with_the_same_content(pair, tmp_path, monkeypatch, merging):
    articles, ours, _ = pair
    if len(articles) < 100:
        pytest.skip("needs the shared article pool (the seed alone fits any bound)")
    if not merging:
        without_merges(monkeypatch)
    small = build(tmp_path / "small", articles, True, memory_limit=2**20)
    # a commit merges the segments its run wrote into one
    assert len(small._segments()) > 2 if not merging else len(small._segments()) == 1
    r = small.reader()
    assert r.doc_count_all() == ours.doc_count_all()
    by_url = {r.stored_fields(d)["url"]: d for d in range(r.doc_count_all())}
    whole = build(tmp_path / "whole", articles, True)
    for term in ("中国", "香港", "的", "卡塔尔"[:2]):
        assert chars_urls(small, term) == chars_urls(whole, term)
    assert set(by_url) == {ours.stored_fields(d)["url"] for d in range(ours.doc_count_all())}
    for field in ("title", "body", "url"):
        for term in list(whole.reader().lexicon(field))[::97]:
            assert ({r.stored_fields(d)["url"] for d in r.postings(field, term).all_ids()} ==
                    {ours.stored_fields(d)["url"] for d in ours.postings(field, term).all_ids()})


def corpus_of(tmp_path: Path, articles_bytes: list[bytes]) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, data in enumerate(articles_bytes):
        (corpus / f"a{i:03d}.md").write_bytes(data)
    return corpus


def real_files(n: int) -> list[bytes]:
    if not POOL.is_dir():
        pytest.skip("needs the shared article pool")
    seen, out = set(), []
    for p in pool_files()[::7]:
        a = parse_article(p.read_bytes(), p.name)
        if a.url not in seen:
            seen.add(a.url)
            out.append(p.read_bytes())
        if len(out) == n:
            return out
    return out


QUERIES = ("中国", "香港 抗议", '"国家安全法"', "的", "title:美国")


def index_content(index_dir: Path) -> dict:
    """url -> stored fields, and url -> score of every hit of a few queries."""
    with search.open_index(index_dir) as ix:
        docs = {d["url"]: d for d in ix._searcher.all_stored_fields()}
        results = {q: {h.url: h.score for h in ix.search(q, limit=1000)} for q in QUERIES}
    return {"docs": docs, "results": results}


def assert_same_content(a: dict, b: dict, rel: float = 0.0) -> None:
    assert a["docs"] == b["docs"]
    for q in QUERIES:
        assert a["results"][q].keys() == b["results"][q].keys(), q
        for url, score in a["results"][q].items():
            assert score == pytest.approx(b["results"][q][url], rel=rel), (q, url)


def test_merging_small_segments_keeps_every_posting(tmp_path, monkeypatch):
    """Six small runs, with deletions and a changed file: the tiered policy merges every three
    segments (FACTOR 3 here), dropping the deleted documents; then --compact makes one."""
    import indexer.merge as merge

    monkeypatch.setattr(merge, "FACTOR", 3)
    data = real_files(70)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    index_dir = tmp_path / "index"
    for run in range(6):
        for i in range(run * 10, run * 10 + 10):
            (corpus / f"a{i:03d}.md").write_bytes(data[i])
        if run in (2, 4):
            (corpus / f"a{run:03d}.md").unlink()
            (corpus / f"a{run + 1:03d}.md").write_bytes(data[60 + run])
        update_index([corpus], index_dir)
    gen = store.current_generation_dir(index_dir)
    assert len(whoosh_index.open_dir(str(gen))._segments()) < 6  # a merge happened
    update_index([corpus], tmp_path / "fresh")
    # A merge re-reads document lengths as Whoosh stores them (one byte, lossy): the average
    # length moves a little, so scores match to 2%, not exactly.
    assert_same_content(index_content(index_dir), index_content(tmp_path / "fresh"), rel=0.02)
    summary = update_index([corpus], index_dir, compact=True)
    assert (summary.new, summary.changed, summary.removed) == (0, 0, 0)
    gen = store.current_generation_dir(index_dir)
    assert len(whoosh_index.open_dir(str(gen))._segments()) == 1
    assert len(list(gen.glob("*.chars"))) == 1  # the merged segments' character indexes are gone
    assert_same_content(index_content(index_dir), index_content(tmp_path / "fresh"), rel=0.02)


def test_two_process_build_equals_one_process_build(tmp_path, monkeypatch):
    corpus = corpus_of(tmp_path, real_files(120))
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 10**9)
    one = update_index([corpus], tmp_path / "one")
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 10)
    two = update_index([corpus], tmp_path / "two")
    assert (one.new, one.documents) == (two.new, two.documents) == (120, 120)
    segments = whoosh_index.open_dir(str(store.current_generation_dir(tmp_path / "two")))._segments()
    assert [s.doc_count_all() for s in segments] == [120]  # each process's segment, merged by the commit
    # the merge keeps the fields' true total lengths, so the scores are the same
    assert_same_content(index_content(tmp_path / "one"), index_content(tmp_path / "two"))


def test_two_process_build_on_one_core_stays_in_one_process(tmp_path, monkeypatch):
    corpus = corpus_of(tmp_path, real_files(20))
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 10)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 1)
    update_index([corpus], tmp_path / "ix")
    assert len(whoosh_index.open_dir(str(store.current_generation_dir(tmp_path / "ix")))._segments()) == 1


def test_two_process_reading_records_what_one_process_does(tmp_path, monkeypatch):
    """The reading pass on two processes (parallel.examine_all) keeps the same file states,
    warnings in the same order and counts as on one, on a fresh build and on an update that
    touches, changes, spoils and adds files."""
    corpus = corpus_of(tmp_path, real_files(160))
    (corpus / "a050.md").write_bytes(b"")
    (corpus / "a120.md").write_text("no title line\n", encoding="utf-8")
    (corpus / "z-dup.md").write_bytes((corpus / "a010.md").read_bytes())
    extra = real_files(170)[160:]

    def run(name: str, processes: int):
        monkeypatch.setattr(parallel, "PARALLEL_FROM", 10 if processes == 2 else 10**9)
        warnings = []
        s = update_index([corpus], tmp_path / name, on_warning=lambda p, r: warnings.append((p, r)))
        gen = store.current_generation_dir(tmp_path / name)
        state = store.load_state(gen, whoosh_index.open_dir(str(gen)).latest_generation())
        return (s.new, s.changed, s.unchanged, s.removed, s.skipped, s.duplicates, s.documents), warnings, state

    first = run("one", 1), run("two", 2)
    assert first[0] == first[1]
    assert first[0][0][4] == 2 and len(first[0][1]) == 2  # the two bad files, each said once
    os.utime(corpus / "a020.md")  # touched, same bytes
    (corpus / "a130.md").write_bytes((corpus / "a131.md").read_bytes() + b"\n<p>more</p>\n")
    (corpus / "a140.md").write_bytes(b"")
    for i, data in enumerate(extra):
        (corpus / f"b{i:03d}.md").write_bytes(data)
    second = run("one", 1), run("two", 2)
    assert second[0] == second[1]
    # new, changed (a130), unchanged (a020 among them), removed, skipped (a050, a120 and now a140)
    assert second[0][0][:5] == (10, 1, 159, 0, 3)
    assert [r for _, r in second[0][1]] == [r for _, r in second[1][1]] and len(second[0][1]) == 3
    assert_same_content(index_content(tmp_path / "one"), index_content(tmp_path / "two"))


def test_reading_pass_keeps_a_bounded_number_of_characters(tmp_path, monkeypatch):
    """Past PARSED_BUDGET the writing pass reads files again: the same index either way."""
    import indexer.writer as writer_mod

    corpus = corpus_of(tmp_path, real_files(40))
    update_index([corpus], tmp_path / "kept")
    monkeypatch.setattr(writer_mod, "PARSED_BUDGET", 5_000)
    reads: list[str] = []
    real = writer_mod._read
    monkeypatch.setattr(writer_mod, "_read", lambda p: reads.append(p) or real(p))
    update_index([corpus], tmp_path / "reread")
    assert len(reads) > 40 + 30  # most files were read twice
    assert_same_content(index_content(tmp_path / "kept"), index_content(tmp_path / "reread"))


def test_no_process_is_left_behind(tmp_path, monkeypatch):
    import multiprocessing

    corpus = corpus_of(tmp_path, real_files(30))
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 10)
    update_index([corpus], tmp_path / "ix")
    assert multiprocessing.active_children() == []
    shutil.rmtree(tmp_path / "ix")


@pytest.mark.parametrize("desc", ["reading", "indexing"])
def test_progress_counts_both_processes(tmp_path, monkeypatch, desc):
    import indexer.writer as writer_mod

    class Bar:
        def __init__(self):
            self.steps: list[int] = []

        def update(self, n):
            self.steps.append(n)

        def close(self):
            pass

    bars = []
    real = writer_mod._progress

    def progress(items, enabled, name, total=None):
        if name != desc:
            return real(items, enabled, name, total)
        bars.append(Bar())
        return bars[-1]

    corpus = corpus_of(tmp_path, real_files(300))
    monkeypatch.setattr(writer_mod, "_progress", progress)
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 10)
    monkeypatch.setattr(parallel, "_TICK", 8)
    update_index([corpus], tmp_path / "ix", progress=True)
    (bar,) = bars
    assert sum(bar.steps) == 300  # both halves, every file once
    assert len(bar.steps) > 300 // 8  # in steps as they went, not at the end


@pytest.mark.parametrize("processes", [1, 2])
def test_a_file_changed_between_the_two_reads_is_read_again_next_run(tmp_path, monkeypatch, processes):
    """With the parsed-article cache exhausted, the writing pass reads files again; one that
    changed since the reading pass is not indexed from the new bytes under the old state: it is
    reported (from either process) and read again by the next run."""
    import indexer.writer as writer_mod

    data = real_files(31)
    corpus = corpus_of(tmp_path, data[:30])
    target = corpus / "a025.md"  # in the second half: the child's, with two processes
    monkeypatch.setattr(writer_mod, "PARSED_BUDGET", 0)
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 10 if processes == 2 else 10**9)
    real = writer_mod._Plan.article

    def article(plan, item):  # the writing pass (either process) reads it again
        if item.abspath == str(target):  # another fetch lands in between
            target.write_bytes(data[30])
        return real(plan, item)

    monkeypatch.setattr(writer_mod._Plan, "article", article)
    warnings = []
    s = update_index([corpus], tmp_path / "ix", on_warning=lambda p, r: warnings.append((p, r)))
    assert [(p, r) for p, r in warnings if "changed while the indexer ran" in r] == [
        (str(target), "changed while the indexer ran; it is read again on the next run")]
    assert s.warnings == warnings
    urls = set(index_content(tmp_path / "ix")["docs"])
    assert len(urls) == 29 and parse_article(data[30], "x").url not in urls
    with search.open_index(tmp_path / "ix") as ix:  # the run's record counts what it wrote
        assert (ix.stats().last_added, ix.stats().documents) == (29, 29)
    monkeypatch.setattr(writer_mod._Plan, "article", real)
    again = update_index([corpus], tmp_path / "ix")
    assert again.changed == 1
    docs = index_content(tmp_path / "ix")["docs"]
    assert len(docs) == 30 and parse_article(data[30], "x").url in docs
    assert parse_article(data[25], "x").url not in docs


@pytest.mark.parametrize("processes", [1, 2])
def test_an_update_with_a_file_that_cannot_be_written_keeps_every_state(tmp_path, monkeypatch, processes):
    """An update lets go of the recorded states for its writing pass and reads them back when a
    file fails there: the failed file is read again next run, every other file stays unchanged."""
    import indexer.writer as writer_mod

    data = real_files(41)
    corpus = corpus_of(tmp_path, data[:20])
    update_index([corpus], tmp_path / "ix")
    for i in range(20, 40):
        (corpus / f"a{i:03d}.md").write_bytes(data[i])
    target = corpus / "a035.md"  # in the second half of the 20 new files: the child's, with two
    monkeypatch.setattr(writer_mod, "PARSED_BUDGET", 0)
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 10 if processes == 2 else 10**9)
    real = writer_mod._Plan.article

    def article(plan, item):
        if item.abspath == str(target):
            target.write_bytes(data[40])
        return real(plan, item)

    monkeypatch.setattr(writer_mod._Plan, "article", article)
    s = update_index([corpus], tmp_path / "ix", on_warning=lambda p, r: None)
    assert (s.new, s.unchanged, len(s.warnings)) == (20, 20, 1) and str(target) in s.warnings[0][0]
    with search.open_index(tmp_path / "ix") as ix:
        assert (ix.stats().documents, ix.stats().last_added) == (39, 19)
    monkeypatch.setattr(writer_mod._Plan, "article", real)
    again = update_index([corpus], tmp_path / "ix")
    assert (again.new, again.changed, again.unchanged, again.documents) == (0, 1, 39, 40)
    docs = index_content(tmp_path / "ix")["docs"]
    assert parse_article(data[40], "x").url in docs and parse_article(data[35], "x").url not in docs


def test_memory_option_sets_the_segment_size(tmp_path, monkeypatch):
    from search.cli import main

    without_merges(monkeypatch)
    corpus = corpus_of(tmp_path, real_files(120))
    segments = {}
    for mb in (16, 128):
        r = CliRunner().invoke(main, ["index", str(corpus), "--index", str(tmp_path / f"ix{mb}"),
                                      "-q", "--memory", str(mb)])
        assert r.exit_code == 0, r.output
        gen = store.current_generation_dir(tmp_path / f"ix{mb}")
        segments[mb] = len(whoosh_index.open_dir(str(gen))._segments())
    assert segments[16] > segments[128] == 1
    assert index_content(tmp_path / "ix16")["docs"] == index_content(tmp_path / "ix128")["docs"]
    r = CliRunner().invoke(main, ["index", str(corpus), "--index", str(tmp_path / "bad"), "--memory", "0"])
    assert r.exit_code == 2 and "--memory" in r.output


def test_whoosh_itself_searches_the_word_fields(seed_corpus, tmp_path):
    """The product's promise: the word fields stay a Whoosh index that Whoosh's own reader and
    query parser search (the character index beside it is zhsearch's own)."""
    from whoosh.qparser import QueryParser

    update_index([seed_corpus], tmp_path / "ix")
    ix = whoosh_index.open_dir(str(store.current_generation_dir(tmp_path / "ix")))
    with ix.searcher() as s:
        hits = s.search(QueryParser("body", ix.schema).parse("人质"), limit=5)
        assert [h["title"] for h in hits] == ["卡塔尔斡旋哈马斯释放人质"]
        assert s.search(QueryParser("body", ix.schema).parse("不存在的词语"), limit=5).is_empty()
