"""Fault injection (issue 6): bad input, crashes, concurrent use, bad queries and bad indexes.

What is tried, for the README's reliability section:

* Bad input, 26 kinds. Expected of each: a one-line warning naming the file and the reason,
  the run goes on, every good file is indexed, no traceback. Binary garbage; invalid UTF-8
  inside a good article (indexed with U+FFFD); GB18030 (read as such); UTF-16; empty file;
  header only; no ``[title](url)`` line; title without URL; invalid URL; NUL bytes; CRLF line
  ends; a 50 MB file (skipped by size, peak RSS < 300 MB, no hang); HTML nested 100,000
  deep; a directory named ``*.md``; a symlink loop; a dangling symlink; a FIFO named ``*.md``;
  a symlink to /dev/zero; a file deleted between walk and read; a file rewritten just before
  and just after it is read; a half-written file completed later; a file without read
  permission (non-root only); non-article files (.jpg .json .swp .#lock ~ #autosave#) ignored
  silently; ``--pattern``; a file name that is not valid UTF-8; an article without any date.
* Parser fuzzing (hypothesis, seed 6): 2 x 300 byte-wise mutations (bit flips, truncations,
  insertions, deletions) of 40 real pool articles: any bytes give an Article or an
  ArticleParseError, and damage to the HTML never changes an article's URL or title.
* Crashes, 30 ``kill -9`` trials. 20 during an update (120 indexed articles; 80 new, 30
  changed, 30 deleted) at seeded random moments: 2 in start-up, 8 while reading and indexing,
  10 inside the commit (phases located by the lock's holder line and the run's record in
  zhsearch.json, so machine load does not shift them); 2 during ``--rebuild``; 1 during a first
  index; 7 at chosen points (state file written / run recorded / TOC written / commit done /
  rebuild committed / CURRENT swapped / CURRENT half-published). After each: the index opens, every document is
  in its old or its new state (all old or all new: one commit), searches answer, and the next
  run, not waiting for the dead writer's lock, yields exactly the new state. Ctrl-C, 5 trials
  (while reading, while indexing, inside the commit, a SIGINT from outside, during start-up):
  exit 130, one line, the index as before. Full disk: Whoosh's writes patched to fail with
  ENOSPC (update and rebuild), and a real 1 MB tmpfs (when one can be mounted).
* Concurrency, 8 races: a second indexer with ``--wait 1`` (exit 75 naming the holder's pid
  and start time); a third with ``--wait 60`` (runs after the first); two indexers started
  together; a stale snapshot, fresh ``open_index`` calls and ``refresh()`` while an update
  commits; an open Index searching through a ``--rebuild``; the lock of a killed indexer;
  ``refresh()`` after a rebuild swapped generations; ``open_index`` during the swap.
* Bad queries, 23 kinds (empty, whitespace, ASCII and CJK punctuation, 10,000 characters,
  deep groups, unbalanced quotes and parentheses, unknown field, dangling operators, purely
  negative, empty phrase, 4 kinds of control characters, invalid UTF-8 in argv, bad dates,
  escape sequences, a ``show`` URL with invalid UTF-8). Bad indexes, 14 kinds (not an index,
  a file, missing, empty, CURRENT pointing nowhere / empty / binary / out of the folder,
  another schema version, broken zhsearch.json, no Whoosh TOC, truncated segment, missing
  state file, read-only folder).

Known bugs are marked ``xfail(strict=True, reason="BUG: ...")``; those tests assert the
correct behaviour, so they start failing (XPASS) the day the bug is fixed.
"""

from __future__ import annotations

import errno
import os
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import indexer.writer as writer_mod
from indexer import store, update_index
from indexer.errors import ArticleParseError, IndexNotFound, QuerySyntaxError
from indexer.reader import MAX_FILE_BYTES, Article, parse_article

from .conftest import POOL, SEED, pool_files

IS_ROOT = os.geteuid() == 0
_SCRIPT = Path(sys.executable).with_name("zhsearch")
ZH = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", "from search.cli import main; main(prog_name='zhsearch')"]
ENV = {k: v for k, v in os.environ.items() if k != "ZHSEARCH_INDEX"} | {"NO_COLOR": "1"}
INTERRUPTED = "zhsearch: interrupted; the index is as it was before this run"


# ---------------------------------------------------------------- helpers

ARTICLE = "<!--{ms}-->\n[{title}]({url})\n------\n\n<div>01/07/2020 - 10:00</div><p><strong>{lead}</strong></p><div>{body}</div>\n"


def article(url: str, title: str = "测试标题", body: str = "正文内容。", lead: str = "导语。", ms: int = 1593597600000) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n"))
    return ARTICLE.format(ms=ms, title=title, url=url, lead=lead, body=paragraphs).encode()


def cli(*args, timeout: float = 120, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([*ZH, *map(str, args)], capture_output=True, text=True, errors="replace",
                          timeout=timeout, cwd=cwd, env=ENV)


def driver(code: str) -> list[str]:
    """A `zhsearch` command line run by a Python that first executes `code` (a fault to inject)."""
    prog = textwrap.dedent(code) + "\nfrom search.cli import main\nmain(prog_name='zhsearch')\n"
    return [sys.executable, "-c", prog]


def faulty(code: str, *args, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*driver(code), *map(str, args)], capture_output=True, text=True, errors="replace",
                          timeout=timeout, env=ENV)


def no_traceback(text: str) -> None:
    assert "Traceback" not in text, text


def one_line(stderr: str) -> str:
    """The single message line of a failed command (warnings aside)."""
    no_traceback(stderr)
    lines = [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith("zhsearch: warning: ")]
    assert len(lines) == 1, stderr
    return lines[0]


def stored(index_dir) -> dict[str, tuple[str, str]]:
    """url -> (title, path) of every indexed document."""
    import search

    with search.open_index(index_dir) as ix:
        return {d["url"]: (d["title"], d["path"]) for d in ix._searcher.all_stored_fields()}


def expected_state(corpus: Path) -> dict[str, tuple[str, str]]:
    """What the index should hold for `corpus`, from the parser alone (URLs are unique there)."""
    out = {}
    for p in sorted(corpus.rglob("*.md")):
        rel = p.relative_to(corpus).as_posix()
        a = parse_article(p.read_bytes(), rel)
        assert a.url not in out
        out[a.url] = (a.title, rel)
    return out


def generations(index_dir: Path) -> list[Path]:
    return sorted(p for p in Path(index_dir).glob("gen-*") if p.is_dir())


def wait_for_lock(index_dir: Path, pid: int, timeout: float = 60) -> None:
    """Until process `pid` holds the index's write lock (its holder line is in write.lock)."""
    lock = Path(index_dir) / "write.lock"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if f"pid {pid} " in lock.read_text(errors="replace"):
                return
        except FileNotFoundError:
            pass
        time.sleep(0.005)
    raise AssertionError(f"process {pid} never took the lock on {index_dir}")


def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A three-article corpus and its index (for queries, bad indexes, locks)."""
    root = tmp_path_factory.mktemp("small")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "seed.md").write_bytes(SEED.read_bytes())
    (corpus / "b.md").write_bytes(article("https://www.dw.com/zh/b/1", "德国新闻", "柏林的天气很好。"))
    (corpus / "c.md").write_bytes(article("https://www.voachinese.com/c/2", "美国新闻", "华盛顿的会议。"))
    update_index([corpus], root / "index")
    return corpus, root / "index"


@pytest.fixture
def small_copy(small, tmp_path):
    corpus, index = small
    shutil.copytree(corpus, tmp_path / "corpus")
    shutil.copytree(index, tmp_path / "index")
    return tmp_path / "corpus", tmp_path / "index"


# ================================================================ bad input

GOOD = {f"good{i}.md": article(f"https://www.rfi.fr/cn/good/{i}", f"好文章{i}", f"第{i}篇正文。") for i in range(5)}


def _bad_corpus(corpus: Path) -> dict:
    """Write good files and one file of each bad kind; return what to expect of each name."""
    corpus.mkdir()
    seed = SEED.read_bytes()

    def variant(tag: str) -> bytes:  # the seed article under another URL
        return seed.replace(b"/20231109-", f"/{tag}20231109-".encode(), 1)

    for name, data in GOOD.items():
        (corpus / name).write_bytes(data)
    (corpus / "seed.md").write_bytes(seed)
    damaged = variant("u")
    cut = damaged.index("两周多前".encode())
    deep = 100_000
    files = {
        # name: (bytes, warning reason or None, indexed?)
        "garbage.md": (random.Random(6).randbytes(8000).replace(b"\x00", b"\x01"), "binary file", False),
        "badutf8.md": (damaged[:cut] + b"\xff\xfe" + damaged[cut:], "invalid UTF-8 bytes replaced by U+FFFD", True),
        "gb18030.md": (variant("g").decode().encode("gb18030"), "read as GB18030", True),
        "utf16.md": (seed.decode().encode("utf-16"), "binary file", False),
        "empty.md": (b"", "empty file", False),
        "header-only.md": (b"<!--1699524901000-->\n[only a header](https://www.rfi.fr/cn/h)\n------\n\n", "header only", False),
        "no-title.md": ("<p>只有正文，没有标题行。</p>".encode(), "no [title](url) line", False),
        "title-no-url.md": ("[标题]\n------\n\n<p>正文</p>".encode(), "title without URL", False),
        "bad-url.md": ("[标题](https://[::1\n------\n\n<p>正文</p>".encode(), "invalid URL", False),
        "nul.md": (seed[:400] + b"\x00" + seed[400:], "NUL bytes", False),
        "crlf.md": (variant("r").replace(b"\n", b"\r\n"), None, True),
        "deep.md": ((f"<!--1699524901000-->\n[深层嵌套](https://www.rfi.fr/cn/deep)\n------\n\n" + "<div>" * deep + "深处的文字"
                     + "</div>" * deep).encode(), "nested too deeply", True),
        "folder.md/inner.md": (variant("f"), None, True),
    }
    for name, (data, _, _) in files.items():
        (corpus / name).parent.mkdir(exist_ok=True)
        (corpus / name).write_bytes(data)
    os.symlink("loop-b.md", corpus / "loop-a.md")
    os.symlink("loop-a.md", corpus / "loop-b.md")
    os.symlink("nowhere.md", corpus / "dangling.md")
    os.mkfifo(corpus / "fifo.md")
    os.symlink("/dev/zero", corpus / "zero.md")
    links = {"loop-a.md": "symbolic links", "loop-b.md": "symbolic links", "dangling.md": "no such file",
             "fifo.md": "not a regular file", "zero.md": "not a regular file"}
    ignored = ["photo.jpg", "data.json", ".seed.md.swp", "seed.md.swp", "seed.md~", "#seed.md#", ".#seed.md"]
    for name in ignored[:-1]:
        (corpus / name).write_bytes(seed)
    os.symlink("root@host.1234:1700000000", corpus / ".#seed.md")  # how Emacs writes its lock
    return {"files": files, "links": links, "ignored": ignored}


def test_bad_input_kinds_warn_once_and_the_run_goes_on(tmp_path):
    corpus = tmp_path / "corpus"
    spec = _bad_corpus(corpus)
    r = cli("index", corpus, "--index", tmp_path / "index", timeout=120)
    no_traceback(r.stderr)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert re.fullmatch(r"\d+ files seen: .* documents in the index \(.*\)", lines[-1]), lines[-1]
    warnings = lines[:-1]
    assert all(ln.startswith("zhsearch: warning: ") for ln in warnings), warnings

    def warned(name: str) -> list[str]:
        path = str(corpus / name)
        return [ln for ln in warnings if ln.startswith(f"zhsearch: warning: {path}: ")]

    expected_warnings = {n: why for n, (_, why, _) in spec["files"].items() if why} | spec["links"]
    for name, why in expected_warnings.items():
        got = warned(name)
        assert len(got) == 1 and why in got[0], (name, got)
    assert len(warnings) == len(expected_warnings), warnings
    for name in spec["ignored"] + ["folder.md", "crlf.md", "seed.md", *GOOD]:
        assert not warned(name), name

    docs = stored(tmp_path / "index")
    want = {parse_article(data, n).url for n, data in GOOD.items()} | {parse_article(SEED.read_bytes(), "s").url}
    want |= {parse_article(data, n).url for n, (data, _, ok) in spec["files"].items() if ok}
    assert set(docs) == want
    skipped = sum(1 for _, why, ok in spec["files"].values() if why and not ok)
    assert f", {skipped} skipped;" in lines[-1]

    import search

    with search.open_index(tmp_path / "index") as ix:
        deep = ix.get("https://www.rfi.fr/cn/deep")
        assert deep is not None and "深处的文字" in deep.body
        bad = ix.get(parse_article(spec["files"]["badutf8.md"][0], "x").url)
        assert "\ufffd\ufffd两周多前" in bad.body
        gb = ix.get(parse_article(spec["files"]["gb18030.md"][0], "x").url)
        assert gb.title == "卡塔尔斡旋哈马斯释放人质" and "两周多前" in gb.body
        crlf = ix.get(parse_article(spec["files"]["crlf.md"][0], "x").url)
        assert crlf.title == gb.title and "\r" not in crlf.body
        assert ix.search("深处的文字").total == 1


def test_50mb_file_is_skipped_in_bounded_memory(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / "seed.md")
    seed = SEED.read_bytes()
    with open(corpus / "huge.md", "wb") as fh:
        fh.write(seed[: seed.index(b"<div")])
        chunk = ("<p>" + "一篇非常长的文章。" * 2000 + "</p>").encode()
        while fh.tell() < 50 * 1024 * 1024:
            fh.write(chunk)
    size = (corpus / "huge.md").stat().st_size
    # A fresh interpreter, so RUSAGE_CHILDREN holds the indexer's peak alone.
    probe = textwrap.dedent(f"""
        import resource, subprocess, sys, time
        t = time.monotonic()
        r = subprocess.run({ZH!r} + sys.argv[1:], capture_output=True, text=True, timeout=100)
        sys.stderr.write(r.stderr)
        print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.monotonic() - t)
    """)
    r = subprocess.run([sys.executable, "-c", probe, "index", str(corpus), "--index", str(tmp_path / "index")],
                       capture_output=True, text=True, timeout=120, env=ENV)
    rc, peak_kb, seconds = r.stdout.split()
    no_traceback(r.stderr)
    assert int(rc) == 0
    assert f"zhsearch: warning: {corpus / 'huge.md'}: file too large ({size} bytes; the limit is {MAX_FILE_BYTES})" in r.stderr
    assert int(peak_kb) < 300 * 1024, f"peak RSS {int(peak_kb) // 1024} MB"
    assert float(seconds) < 60
    assert len(stored(tmp_path / "index")) == 1


def test_file_deleted_between_walk_and_read(tmp_path, monkeypatch):
    corpus = tmp_path / "c"
    corpus.mkdir()
    for name, data in GOOD.items():
        (corpus / name).write_bytes(data)
    update_index([corpus], tmp_path / "ix")
    (corpus / "new.md").write_bytes(article("https://www.rfi.fr/cn/new", "新文章"))
    real = writer_mod._read

    def vanishing(path):
        if os.path.basename(path) in ("new.md", "good1.md"):
            os.unlink(path)
        return real(path)

    monkeypatch.setattr(writer_mod, "_read", vanishing)
    os.utime(corpus / "good1.md", ns=(1, 1))  # changed on disk, so it is read (and vanishes)
    warned = []
    s = update_index([corpus], tmp_path / "ix", on_warning=lambda p, r: warned.append((os.path.basename(p), r)))
    assert sorted(warned) == [("good1.md", "disappeared while the indexer ran"), ("new.md", "disappeared while the indexer ran")]
    assert s.skipped == 2
    assert len(stored(tmp_path / "ix")) == 5  # good1 keeps its document for now
    monkeypatch.setattr(writer_mod, "_read", real)
    s = update_index([corpus], tmp_path / "ix")
    assert s.removed == 1 and set(stored(tmp_path / "ix")) == {f"https://www.rfi.fr/cn/good/{i}" for i in (0, 2, 3, 4)}


@pytest.mark.parametrize("when", ["before", "after"])
def test_file_rewritten_while_the_run_reads_it(tmp_path, monkeypatch, when):
    corpus = tmp_path / "c"
    corpus.mkdir()
    url = "https://www.rfi.fr/cn/live"
    (corpus / "live.md").write_bytes(article(url, "第一版"))
    real = writer_mod._read

    def racing(path):
        if when == "before":  # rewritten between the walk's stat and the read
            Path(path).write_bytes(article(url, "第二版", "更长的正文。" * 10))
            return real(path)
        out = real(path)  # rewritten just after the read
        Path(path).write_bytes(article(url, "第二版", "更长的正文。" * 10))
        return out

    monkeypatch.setattr(writer_mod, "_read", racing)
    update_index([corpus], tmp_path / "ix")
    monkeypatch.setattr(writer_mod, "_read", real)
    first = stored(tmp_path / "ix")[url][0]
    assert first == ("第二版" if when == "before" else "第一版")
    s = update_index([corpus], tmp_path / "ix")
    assert stored(tmp_path / "ix")[url][0] == "第二版"  # the change is not lost
    assert (s.changed, s.unchanged) == ((0, 1) if when == "before" else (1, 0))


def test_half_written_file_is_indexed_once_complete(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    full = article("https://www.rfi.fr/cn/slow", "慢慢写完的文章", "终于写完了。")
    (corpus / "slow.md").write_bytes(full[: full.index(b"<div>")])
    warned = []
    s = update_index([corpus], tmp_path / "ix", on_warning=lambda p, r: warned.append(r))
    assert s.skipped == 1 and warned == ["header only, no article text"] and stored(tmp_path / "ix") == {}
    (corpus / "slow.md").write_bytes(full)
    s = update_index([corpus], tmp_path / "ix")
    assert s.skipped == 0 and stored(tmp_path / "ix") == {"https://www.rfi.fr/cn/slow": ("慢慢写完的文章", "slow.md")}


@pytest.mark.skipif(IS_ROOT, reason="root reads files without read permission; the case cannot be staged")
def test_unreadable_file_is_warned(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    for name, data in GOOD.items():
        (corpus / name).write_bytes(data)
    (corpus / "secret.md").write_bytes(article("https://www.rfi.fr/cn/secret"))
    (corpus / "secret.md").chmod(0)
    warned = []
    s = update_index([corpus], tmp_path / "ix", on_warning=lambda p, r: warned.append((os.path.basename(p), r)))
    assert warned == [("secret.md", "cannot read: permission denied")]
    assert s.skipped == 1 and len(stored(tmp_path / "ix")) == len(GOOD)


def test_pattern_option(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.html").write_bytes(article("https://www.rfi.fr/cn/a", "甲"))
    (corpus / "b.md").write_bytes(article("https://www.rfi.fr/cn/b", "乙"))
    (corpus / "c.txt").write_bytes(article("https://www.rfi.fr/cn/c", "丙"))
    (corpus / "d.HTML").write_bytes(b"\x00 not an article")
    r = cli("index", corpus, "--index", tmp_path / "ix", "--pattern", "*.html", "--pattern", "*.md")
    assert r.returncode == 0 and r.stderr.count("\n") == 1, r.stderr  # the summary line only
    assert sorted(t for t, _ in stored(tmp_path / "ix").values()) == ["乙", "甲"]


def test_strict_exits_65_after_indexing_the_good_files(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    for name, data in GOOD.items():
        (corpus / name).write_bytes(data)
    (corpus / "empty.md").write_bytes(b"")
    r = cli("index", corpus, "--index", tmp_path / "ix", "--strict")
    no_traceback(r.stderr)
    assert r.returncode == 65
    assert r.stderr.splitlines()[0] == f"zhsearch: warning: {corpus / 'empty.md'}: empty file"
    assert len(stored(tmp_path / "ix")) == len(GOOD)


def test_undated_article_is_searchable(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "dated.md").write_bytes(article("https://www.rfi.fr/cn/dated", "有日期的文章", "两篇文章都谈到天气。"))
    (corpus / "undated.md").write_bytes("[没有日期的文章](https://www.rfi.fr/cn/undated)\n------\n\n<p>这篇也谈到天气。</p>".encode())
    r = cli("index", corpus, "--index", tmp_path / "ix", "-q")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    for args in (["search", "天气"], ["search", "--sort", "date", "天气"], ["stats"]):
        r = cli(*args, "--index", tmp_path / "ix")
        no_traceback(r.stderr)
        assert r.returncode == 0, (args, r.stderr)
    assert "没有日期的文章" in cli("search", "--index", tmp_path / "ix", "天气").stdout


def test_file_name_not_utf8(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    for name, data in GOOD.items():
        (corpus / name).write_bytes(data)
    with open(os.path.join(os.fsencode(corpus), b"caf\xe9-latin1.md"), "wb") as fh:
        fh.write(article("https://www.rfi.fr/cn/latin1", "文件名不是UTF-8"))
    r = cli("index", corpus, "--index", tmp_path / "ix")
    no_traceback(r.stderr)
    assert r.returncode == 0
    docs = stored(tmp_path / "ix")
    assert {f"https://www.rfi.fr/cn/good/{i}" for i in range(5)} <= set(docs)
    # Indexed, or skipped with a warning naming it.
    assert "https://www.rfi.fr/cn/latin1" in docs or "latin1.md" in r.stderr


# ================================================================ parser fuzzing: mutated real articles

_FUZZ_SOURCES: list[bytes] = []


def fuzz_sources() -> list[bytes]:
    """40 real articles with plenty of non-ASCII text (or the seed where the pool is absent)."""
    if not _FUZZ_SOURCES:
        picked = []
        if POOL.is_dir():
            for p in pool_files()[::37]:
                data = p.read_bytes()
                if len(data.translate(None, bytes(range(128)))) >= 3000 and not parse_article(data, "x").warnings:
                    picked.append(data)
        _FUZZ_SOURCES.extend(picked[:40] or [SEED.read_bytes()])
    return _FUZZ_SOURCES


DAMAGE = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 2**32), st.integers(0, 7)),
    st.tuples(st.just("insert"), st.integers(0, 2**32), st.binary(min_size=1, max_size=4)),
    st.tuples(st.just("delete"), st.integers(0, 2**32), st.integers(1, 64)),
)
MUTATION = st.one_of(DAMAGE, st.tuples(st.just("truncate"), st.integers(0, 2**32)))
FUZZ = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def mutate(data: bytes, mutations, start: int = 0) -> bytes:
    buf = bytearray(data)
    for m in mutations:
        span = len(buf) - start
        if span <= 0:
            break
        pos = start + m[1] % span
        if m[0] == "flip":
            buf[pos] ^= 1 << m[2]
        elif m[0] == "insert":
            buf[pos:pos] = m[2]
        elif m[0] == "delete":
            del buf[pos : pos + m[2]]
        else:
            del buf[pos:]
    return bytes(buf)


def check_article(a: Article) -> None:
    assert isinstance(a, Article)
    assert a.title and "\n" not in a.title and a.url.startswith("https://")
    for text in (a.title, a.lead, a.body):
        text.encode("utf-8")  # no lone surrogates reach the index
        assert "\x00" not in text


@seed(6)
@FUZZ
@given(st.data(), st.lists(MUTATION, min_size=1, max_size=8))
def test_fuzz_mutated_pool_articles(data, mutations):
    source = data.draw(st.sampled_from(fuzz_sources()))
    try:
        a = parse_article(mutate(source, mutations), "mutant.md")
    except ArticleParseError as e:
        assert e.reason and e.path == "mutant.md"
        return
    check_article(a)


@seed(6)
@FUZZ
@given(st.data(), st.lists(DAMAGE, min_size=1, max_size=6))
def test_fuzz_body_damage_keeps_url_and_title(data, mutations):
    source = data.draw(st.sampled_from(fuzz_sources()))
    body_start = source.index(b"<", source.index(b"\n", source.index(b"](http")))  # the HTML, after any 日期 line
    mutant = mutate(source, mutations, start=body_start)
    original = parse_article(source, "m.md")
    if b"\x00" in mutant:
        with pytest.raises(ArticleParseError, match="NUL"):
            parse_article(mutant, "m.md")
        return
    a = parse_article(mutant, "m.md")
    check_article(a)
    assert (a.url, a.title) == (original.url, original.title)


# ================================================================ crashes: the lab


@dataclass
class Lab:
    corpus: Path  # in its new state
    base: Path  # an index of the old state
    old: dict
    new: dict
    spans: dict[str, float]  # of one uninterrupted update run: start-up, reading+indexing, commit
    query_totals: tuple[int, int]  # hits for "中国" in the old and the new state


def _lab_articles(n: int) -> list[bytes]:
    """n short articles with distinct URLs and no parser warnings: pool files, else synthetic."""
    out: list[bytes] = []
    if POOL.is_dir():
        seen = set()
        for p in pool_files():
            if 500 <= p.stat().st_size <= 1800:
                data = p.read_bytes()
                a = parse_article(data, "x")
                if a.url not in seen and not a.warnings and a.body:
                    seen.add(a.url)
                    out.append(data)
        out = [out[i * len(out) // n] for i in range(n)] if len(out) >= n else out  # spread over the outlets
    if len(out) < n:
        sentences = [s for s in re.split(r"(?<=。)", parse_article(SEED.read_bytes(), "s").body) if s.strip()]
        # A paragraph of seeded random characters (U+5E00-U+6DFF: no 中 or 国) gives each article
        # its own vocabulary, so a synthetic corpus fills an index as real articles do.
        rng = random.Random(n)
        out = [article(f"https://www.rfi.fr/cn/synthetic/{i}", f"合成新闻第{i}号中国", "\n".join(
            [sentences[(i + k) % len(sentences)] for k in range(4)]
            + ["".join(chr(0x5E00 + rng.randrange(0x1000)) for _ in range(80)) + "。"])) for i in range(n)]
    return out[:n]


def _retitle(data: bytes) -> bytes:
    m = re.search(rb"^\[", data, re.M)
    return data[: m.end()] + "修订：".encode() + data[m.end():]


def _hits(index_dir, query="中国") -> int:
    import search

    with search.open_index(index_dir) as ix:
        return ix.search(query, limit=1).total


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    root = tmp_path_factory.mktemp("crash-lab")
    articles = _lab_articles(200)
    corpus = root / "corpus"
    corpus.mkdir()
    for i, data in enumerate(articles[:120]):
        (corpus / f"a{i:03d}.md").write_bytes(data)
    old = expected_state(corpus)
    update_index([corpus], root / "base")
    assert stored(root / "base") == old
    for i, data in enumerate(articles[120:]):
        (corpus / f"b{i:03d}.md").write_bytes(data)
    for i in range(30):
        (corpus / f"a{i:03d}.md").unlink()
    for i in range(30, 60):
        p = corpus / f"a{i:03d}.md"
        p.write_bytes(_retitle(p.read_bytes()))
    new = expected_state(corpus)
    assert len(old) == 120 and len(new) == 170 and len(set(old) & set(new)) == 90
    assert sum(old[u] != new[u] for u in set(old) & set(new)) == 30

    shutil.copytree(root / "base", root / "reference")
    p, markers = _start_indexer(corpus, root / "reference")
    times = [time.monotonic()]
    for marker in markers:
        assert _wait_for(marker, p)
        times.append(time.monotonic())
    assert p.wait(timeout=120) == 0, p.stderr.read()
    times.append(time.monotonic())
    assert stored(root / "reference") == new
    spans = dict(zip(PHASES, (b - a for a, b in zip(times, times[1:]))))
    return Lab(corpus, root / "base", old, new, spans, (_hits(root / "base"), _hits(root / "reference")))


def _fresh_copy(lab: Lab, index_dir: Path) -> Path:
    shutil.rmtree(index_dir, ignore_errors=True)
    shutil.copytree(lab.base, index_dir)
    return index_dir


def _after_crash(lab: Lab, index_dir: Path, *, fresh: bool = False) -> str:
    """Check the index a killed indexer left; return "old", "new" (or "none": no index yet)."""
    import search

    try:
        ix = search.open_index(index_dir)
    except IndexNotFound:
        assert fresh, "the index vanished"
        return "none"
    with ix:
        docs = {d["url"]: (d["title"], d["path"]) for d in ix._searcher.all_stored_fields()}
        total = ix.search("中国", limit=3).total
    for url in set(lab.old) | set(lab.new) | set(docs):
        assert docs.get(url) in ({lab.new.get(url)} if fresh else {lab.old.get(url), lab.new.get(url)}), url
    assert docs in ([lab.new] if fresh else [lab.old, lab.new])  # one commit: all or nothing
    outcome = "old" if docs == lab.old and not fresh else "new"
    assert total == lab.query_totals[outcome == "new"]
    return outcome


def _completes(lab: Lab, index_dir: Path) -> None:
    """The next run (not waiting: a dead writer's lock must be free) yields exactly the new state."""
    update_index([lab.corpus], index_dir, wait=0)
    assert stored(index_dir) == lab.new
    again = update_index([lab.corpus], index_dir, wait=0)
    assert (again.new, again.changed, again.removed, again.documents) == (0, 0, 0, 170)
    (gen,) = generations(index_dir)
    assert (gen / f"state-{_latest(gen)}.json").is_file()


def _latest(gen: Path) -> int:
    from whoosh import index as wi

    return wi.open_dir(str(gen)).latest_generation()


PHASES = ("start-up", "reading and indexing", "commit")


def _recorded_generation(index_dir: Path) -> int:
    """The newest generation of the runs recorded in the index's metas (-1: none)."""
    newest = -1
    for meta in Path(index_dir).glob("gen-*/zhsearch.json"):
        try:
            changes = orjson.loads(meta.read_bytes()).get("changes") or []
        except (OSError, ValueError):
            continue
        newest = max([newest, *(int(c["generation"]) for c in changes)])
    return newest


def _start_indexer(corpus: Path, index_dir: Path, *args):
    """An indexer subprocess, and the markers of its phases: lock taken, commit begun.

    A run records itself in zhsearch.json (arrivals.py) after the writing pass and just before
    the Whoosh commit, so that record marks the start of the commit, in an update as in a rebuild.
    (Not the state file: it is written before the writing pass.)"""
    before = _recorded_generation(index_dir)
    p = subprocess.Popen([*ZH, "index", str(corpus), "--index", str(index_dir), "-q", *args],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)

    def locked():
        try:
            return f"pid {p.pid} " in (Path(index_dir) / "write.lock").read_text(errors="replace")
        except OSError:
            return False

    return p, (locked, lambda: _recorded_generation(index_dir) > before)


def _wait_for(marker, p: subprocess.Popen, timeout: float = 120) -> bool:
    """Poll `marker` until it holds (True) or the process ends first (False)."""
    deadline = time.monotonic() + timeout
    while not marker():
        if p.poll() is not None:
            return False
        assert time.monotonic() < deadline
        time.sleep(0.002)
    return True


def _kill_in(lab: Lab, index_dir: Path, phase: str, u: float, *args) -> tuple[int, float]:
    """kill -9 the indexer `u` of the way into `phase` (its length taken from the reference run)."""
    p, markers = _start_indexer(lab.corpus, index_dir, *args)
    for marker in markers[: PHASES.index(phase)]:
        _wait_for(marker, p)
    delay = u * lab.spans[phase]
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    return p.wait(timeout=60), delay


_RNG = random.Random(6)
# 20 trials: 2 in start-up, 8 while reading and indexing, 10 inside the commit.
CRASH_TRIALS = [(phase, (k + _RNG.random()) / n) for phase, n in zip(PHASES, (2, 8, 10)) for k in range(n)]
REBUILD_TRIALS = [(phase, _RNG.random()) for phase in PHASES[1:]]
FIRST_TRIALS = [("commit", _RNG.random())]


def _report(kind: str, trial: int, phase: str, delay: float, rc: int, outcome: str) -> None:
    print(f"kill -9 {kind} #{trial}: {delay:.2f} s into {phase} -> "
          f"{'killed' if rc == -signal.SIGKILL else f'exit {rc}'}, index {outcome}")


@pytest.mark.parametrize("trial", range(len(CRASH_TRIALS)))
def test_kill_9_during_update(lab, tmp_path, trial):
    index_dir = _fresh_copy(lab, tmp_path / "index")
    phase, u = CRASH_TRIALS[trial]
    rc, delay = _kill_in(lab, index_dir, phase, u)
    outcome = _after_crash(lab, index_dir)
    _report("update", trial, phase, delay, rc, outcome)
    assert rc == -signal.SIGKILL or (rc == 0 and outcome == "new")
    _completes(lab, index_dir)


@pytest.mark.parametrize("trial", range(len(REBUILD_TRIALS)))
def test_kill_9_during_rebuild(lab, tmp_path, trial):
    index_dir = _fresh_copy(lab, tmp_path / "index")
    phase, u = REBUILD_TRIALS[trial]
    rc, delay = _kill_in(lab, index_dir, phase, u, "--rebuild")
    outcome = _after_crash(lab, index_dir)
    _report("--rebuild", trial, phase, delay, rc, outcome)
    assert rc == -signal.SIGKILL or (rc == 0 and outcome == "new")
    assert store.current_generation_dir(index_dir).is_dir()
    _completes(lab, index_dir)


@pytest.mark.parametrize("trial", range(len(FIRST_TRIALS)))
def test_kill_9_during_first_index(lab, tmp_path, trial):
    index_dir = tmp_path / "index"
    phase, u = FIRST_TRIALS[trial]
    rc, delay = _kill_in(lab, index_dir, phase, u)
    outcome = _after_crash(lab, index_dir, fresh=True)
    _report("first index", trial, phase, delay, rc, outcome)
    assert rc == -signal.SIGKILL or (rc == 0 and outcome == "new")
    _completes(lab, index_dir)


DIE = "import os, signal\ndef _die(): os.kill(os.getpid(), signal.SIGKILL)\n"
KILL_POINTS = {
    # name: (fault code, extra args, the state searchers must see afterwards)
    "state file written, before the writing pass": (
        DIE + "from indexer import store\n_r = store.save_state\n"
        "def f(*a, **k):\n    _r(*a, **k); _die()\nstore.save_state = f", (), "old"),
    "segments and the run's record written, before the Whoosh commit": (
        DIE + "from indexer import store\n_r = store.write_meta\n"
        "def f(gen_dir, meta):\n    _r(gen_dir, meta)\n    if meta.get('changes'): _die()\n"
        "store.write_meta = f", (), "old"),
    "TOC written, before old segments are cleaned": (
        DIE + "from whoosh.index import TOC\n_r = TOC.write\n"
        "def f(*a, **k):\n    _r(*a, **k); _die()\nTOC.write = f", (), "new"),
    "commit done, before old state files are dropped": (
        DIE + "from indexer import store\nstore.drop_old_states = lambda *a: _die()", (), "new"),
    "rebuild committed, before CURRENT is swapped": (
        DIE + "from indexer import store\nstore.publish = lambda *a: _die()", ("--rebuild",), "old"),
    "CURRENT swapped, before the old generation is removed": (
        DIE + "from indexer import store\nstore.remove_other_generations = lambda *a, **k: _die()", ("--rebuild",), "new"),
    # --compact merges every segment after the update: the merged segment is written, not published
    "compaction: merged segment written, before the TOC": (
        DIE + "from indexer import merge\n_r = merge._merge\n"
        "def f(*a, **k):\n    _r(*a, **k); _die()\nmerge._merge = f", ("--compact",), "old"),
    "compaction: half-way through the character index merge": (  # the 1st add: the run's new segment
        DIE + "from indexer.codec import chars\n_r = chars.CharsWriter.add\n_n = [0]\n"
        "def f(self, *a, **k):\n    _r(self, *a, **k)\n    _n[0] += 1\n    if _n[0] == 2: _die()\n"
        "chars.CharsWriter.add = f", ("--compact",), "old"),
    "compaction: copying documents": (
        DIE + "from indexer import merge\n_r = merge._copy_documents\n_n = [0]\n"
        "def f(*a, **k):\n    _n[0] += 1\n    if _n[0] == 2: _die()\n    return _r(*a, **k)\n"
        "merge._copy_documents = f", ("--compact",), "old"),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_kill_9_at_chosen_points(lab, tmp_path, point):
    code, args, expected = KILL_POINTS[point]
    index_dir = _fresh_copy(lab, tmp_path / "index")
    r = faulty(code, "index", lab.corpus, "--index", index_dir, "-q", *args)
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert _after_crash(lab, index_dir) == expected
    _completes(lab, index_dir)


def test_kill_9_while_publishing_the_first_index(tmp_path, small):
    corpus, _ = small
    kill_on_current = DIE + textwrap.dedent("""
        _replace = os.replace
        def replace(src, dst, *a, **k):
            if str(dst).endswith("CURRENT"):
                _die()
            return _replace(src, dst, *a, **k)
        os.replace = replace
    """)
    r = faulty(kill_on_current, "index", corpus, "--index", tmp_path / "ix", "-q")
    assert r.returncode == -signal.SIGKILL
    r = cli("index", corpus, "--index", tmp_path / "ix", "-q", "--wait", "0")
    no_traceback(r.stderr)
    assert r.returncode == 0, r.stderr
    assert len(stored(tmp_path / "ix")) == 3


# ---------------------------------------------------------------- Ctrl-C

SIGINT_POINTS = {
    "while reading files": "from indexer import writer\n_r = writer._read\n_n = [0]\n"
                           "def f(p):\n    _n[0] += 1\n    if _n[0] == 10: os.kill(os.getpid(), signal.SIGINT)\n"
                           "    return _r(p)\nwriter._read = f",
    "while indexing documents": "from indexer import parallel\n_r = parallel.to_document\n_n = [0]\n"
                                "def f(a):\n    _n[0] += 1\n    if _n[0] == 100: os.kill(os.getpid(), signal.SIGINT)\n"
                                "    return _r(a)\nparallel.to_document = f",
    "inside the commit, new segment written": "from whoosh.writing import SegmentWriter as W\n_r = W._finalize_segment\n"
                                              "def f(self):\n    s = _r(self); os.kill(os.getpid(), signal.SIGINT); return s\n"
                                              "W._finalize_segment = f",
}


@pytest.mark.parametrize("point", list(SIGINT_POINTS))
def test_ctrl_c_mid_run(lab, tmp_path, point):
    index_dir = _fresh_copy(lab, tmp_path / "index")
    r = faulty("import os, signal\n" + SIGINT_POINTS[point], "index", lab.corpus, "--index", index_dir, "-q")
    assert r.returncode == 130, r.stderr
    assert one_line(r.stderr) == INTERRUPTED
    assert stored(index_dir) == lab.old
    assert _hits(index_dir) == lab.query_totals[0]


def test_ctrl_c_during_a_compaction(lab, tmp_path):
    """`--compact` exits as `index` does: Ctrl-C inside its merge is 130, the index as it was."""
    index_dir = _fresh_copy(lab, tmp_path / "index")
    # only once the merges are a compaction's: an update's own merges copy documents too
    interrupt = textwrap.dedent("""
        import os, signal
        from indexer import merge
        _merge, _copy, _compacting = merge.merge_segments, merge._copy_documents, [False]
        def merge_segments(writer, old, new, compact=False, progress=None):
            _compacting[0] = compact
            return _merge(writer, old, new, compact, progress)
        def copy(*a, **k):
            if _compacting[0]:
                os.kill(os.getpid(), signal.SIGINT)
            return _copy(*a, **k)
        merge.merge_segments, merge._copy_documents = merge_segments, copy
    """)
    r = faulty(interrupt, "index", lab.corpus, "--index", index_dir, "-q", "--compact")
    assert r.returncode == 130, r.stderr
    assert one_line(r.stderr) == INTERRUPTED
    assert stored(index_dir) == lab.old
    _completes(lab, index_dir)


def test_ctrl_c_from_outside(lab, tmp_path):
    index_dir = _fresh_copy(lab, tmp_path / "index")
    p = subprocess.Popen([*ZH, "index", str(lab.corpus), "--index", str(index_dir), "-q"],
                         stderr=subprocess.PIPE, text=True, env=ENV)
    wait_for_lock(index_dir, p.pid)
    time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert one_line(err) == INTERRUPTED
    assert stored(index_dir) == lab.old
    _completes(lab, index_dir)


def test_ctrl_c_during_start_up(small_copy):
    corpus, index_dir = small_copy
    before = stored(index_dir)
    interrupt_on_import = textwrap.dedent("""
        import os, signal, sys
        class Finder:
            def find_spec(self, name, path=None, target=None):
                if name == "indexer.writer":
                    os.kill(os.getpid(), signal.SIGINT)
                return None
        sys.meta_path.insert(0, Finder())
    """)
    r = faulty(interrupt_on_import, "index", corpus, "--index", index_dir, "-q", "--rebuild")
    assert stored(index_dir) == before
    assert r.returncode == 130, r.stderr
    assert one_line(r.stderr) == INTERRUPTED


# ---------------------------------------------------------------- the second indexing process
# A large batch is split with a forked child (indexer/parallel.py); the lab's 80 documents are
# made large enough by lowering PARALLEL_FROM. The child writes the pid it runs as to a file.

TWO_PROCESSES = """
import os, signal
from indexer import parallel
parallel.PARALLEL_FROM = 10
PARENT = os.getpid()
_child = parallel._child
def child(*a):
    open({pidfile!r}, "w").write(str(os.getpid()))
    return _child(*a)
parallel._child = child
_doc = parallel.to_document
_n = [0]
def to_document(a):
    _n[0] += 1
    {fault}
    return _doc(a)
parallel.to_document = to_document
"""


def two_processes(tmp_path: Path, fault: str = "pass", extra: str = "") -> tuple[str, Path]:
    pidfile = tmp_path / "child.pid"
    return TWO_PROCESSES.format(pidfile=str(pidfile), fault=fault) + textwrap.dedent(extra), pidfile


def _exited(pid: int, timeout: float = 30) -> bool:
    """Whether process `pid` is gone (or a zombie: it has exited) within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/status") as f:
                if any(line.startswith("State:") and "Z" in line.split()[1] for line in f):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_two_processes_update_the_index(lab, tmp_path):
    code, pidfile = two_processes(tmp_path)
    index_dir = _fresh_copy(lab, tmp_path / "index")
    r = faulty(code, "index", lab.corpus, "--index", index_dir, "-q")
    assert r.returncode == 0, r.stderr
    assert pidfile.is_file()  # the second process did run
    assert stored(index_dir) == lab.new
    assert _hits(index_dir) == lab.query_totals[1]
    _completes(lab, index_dir)


def test_killed_parent_leaves_the_index_and_stops_the_child(lab, tmp_path):
    code, pidfile = two_processes(tmp_path, "if os.getpid() == PARENT and _n[0] == 20: "
                                            "time.sleep(0.5); os.kill(PARENT, signal.SIGKILL)", "import time")
    index_dir = _fresh_copy(lab, tmp_path / "index")
    r = faulty(code, "index", lab.corpus, "--index", index_dir, "-q")
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert _exited(int(pidfile.read_text()))  # orphaned, it stops instead of writing on
    assert _after_crash(lab, index_dir) == "old"
    _completes(lab, index_dir)


def test_killed_child_fails_the_run_cleanly(lab, tmp_path):
    code, _ = two_processes(tmp_path, "if os.getpid() != PARENT and _n[0] == 5: os.kill(os.getpid(), signal.SIGKILL)")
    index_dir = _fresh_copy(lab, tmp_path / "index")
    r = faulty(code, "index", lab.corpus, "--index", index_dir, "-q")
    assert r.returncode == 74, r.stderr
    line = one_line(r.stderr)
    assert "second indexing process died" in line and "intact" in line
    assert stored(index_dir) == lab.old
    _completes(lab, index_dir)


def test_killed_reading_child_fails_the_run_cleanly(lab, tmp_path):
    """The reading pass forks too (parallel.examine_all): its child dying fails the run as the
    writing child's does, before anything is written."""
    code, _ = two_processes(tmp_path, extra=f"""
        from indexer import writer
        _examine, _m = writer._examine, [0]
        def examine(cf, digest):
            _m[0] += 1
            if os.getpid() != PARENT and _m[0] == 3:
                open({str(tmp_path / "reader.pid")!r}, "w").write(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)
            return _examine(cf, digest)
        writer._examine = examine
        """)
    index_dir = _fresh_copy(lab, tmp_path / "index")
    r = faulty(code, "index", lab.corpus, "--index", index_dir, "-q")
    assert (tmp_path / "reader.pid").is_file()  # the reading child was killed
    assert r.returncode == 74, r.stderr
    line = one_line(r.stderr)
    assert "second indexing process died" in line and "intact" in line
    assert stored(index_dir) == lab.old
    _completes(lab, index_dir)


def test_full_disk_in_the_child_says_so(lab, tmp_path):
    child_only = ENOSPC_AFTER.format(budget=0).replace(
        "        _budget[0] -= len(b)", "        _budget[0] -= len(b) if os.getpid() != PARENT else 0")
    assert "PARENT" in child_only
    code, _ = two_processes(tmp_path, extra=child_only)
    index_dir = _fresh_copy(lab, tmp_path / "index")
    r = faulty(code, "index", lab.corpus, "--index", index_dir, "-q")
    assert r.returncode == 74, r.stderr
    line = one_line(r.stderr)
    assert "no space left on device" in line.lower() and "intact" in line
    assert stored(index_dir) == lab.old
    _completes(lab, index_dir)


def test_ctrl_c_to_the_process_group_with_two_processes(lab, tmp_path):
    """A terminal's Ctrl-C reaches both processes: the parent reports it, the child goes."""
    code, pidfile = two_processes(tmp_path, "if os.getpid() == PARENT and _n[0] == 20: "
                                            "time.sleep(0.3); os.killpg(0, signal.SIGINT)", "import time")
    index_dir = _fresh_copy(lab, tmp_path / "index")
    # its own session: the group's SIGINT must not reach this test runner
    r = subprocess.run([*driver(code), "index", str(lab.corpus), "--index", str(index_dir), "-q"],
                       capture_output=True, text=True, errors="replace", timeout=120, env=ENV,
                       start_new_session=True)
    assert r.returncode == 130, r.stderr
    assert one_line(r.stderr) == INTERRUPTED
    assert _exited(int(pidfile.read_text()))
    assert stored(index_dir) == lab.old
    _completes(lab, index_dir)


# ---------------------------------------------------------------- full disk

ENOSPC_AFTER = """
import errno
from whoosh.filedb import filestore
_budget = [{budget}]
class Full:
    def __init__(self, f): self._f = f
    def write(self, b):
        _budget[0] -= len(b)
        if _budget[0] < 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self._f.write(b)
    def __getattr__(self, name): return getattr(self._f, name)
_create = filestore.FileStorage.create_file
def create_file(self, *a, **k):
    f = _create(self, *a, **k)
    f.file = Full(f.file)
    return f
filestore.FileStorage.create_file = create_file
"""


def _growing_corpus(tmp_path: Path, base: int, extra: int) -> tuple[Path, Path, dict]:
    """A small indexed corpus, then `extra` new articles on disk; returns (corpus, index, old state)."""
    articles = _lab_articles(base + extra)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, data in enumerate(articles[:base]):
        (corpus / f"a{i:03d}.md").write_bytes(data)
    return corpus, articles[base:], expected_state(corpus)


def _add(corpus: Path, articles: list[bytes]) -> None:
    for i, data in enumerate(articles):
        (corpus / f"b{i:03d}.md").write_bytes(data)


@pytest.mark.parametrize("mode", [(), ("--rebuild",)], ids=["update", "rebuild"])
def test_full_disk_leaves_the_index_intact(tmp_path, mode):
    corpus, extra, old = _growing_corpus(tmp_path, 10, 30)
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    _add(corpus, extra)
    r = faulty(ENOSPC_AFTER.format(budget=20_000), "index", corpus, "--index", index_dir, "-q", *mode)
    assert r.returncode != 0
    assert stored(index_dir) == old
    assert cli("search", "--index", index_dir, "中国").returncode in (0, 1)
    r = cli("index", corpus, "--index", index_dir, "-q", "--wait", "0")
    assert r.returncode == 0, r.stderr
    assert stored(index_dir) == expected_state(corpus)
    assert len(generations(index_dir)) == 1


@pytest.mark.parametrize("mode", [(), ("--rebuild",)], ids=["update", "rebuild"])
def test_full_disk_says_so_and_exits_74(tmp_path, mode):
    corpus, extra, old = _growing_corpus(tmp_path, 10, 30)
    update_index([corpus], tmp_path / "index")
    _add(corpus, extra)
    r = faulty(ENOSPC_AFTER.format(budget=20_000), "index", corpus, "--index", tmp_path / "index", "-q", *mode)
    assert stored(tmp_path / "index") == old
    assert r.returncode == 74, r.stderr
    line = one_line(r.stderr)
    assert "no space left on device" in line.lower() and "intact" in line


@pytest.mark.parametrize("budget", [5_000, 60_000, 400_000])
def test_full_disk_during_compaction_leaves_the_index_intact(tmp_path, budget):
    """--compact on an up-to-date index of several segments: only the merge writes. Whenever the
    disk fills, exit 74 with one line, the index as it was, the next run completes."""
    corpus, extra, _ = _growing_corpus(tmp_path, 10, 30)
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    for i, data in enumerate(extra):  # three more runs: four segments
        (corpus / f"b{i:03d}.md").write_bytes(data)
        if i % 10 == 9:
            update_index([corpus], index_dir)
    before = stored(index_dir)
    gen = store.current_generation_dir(index_dir)
    def segment_files() -> list[str]:  # (the failed run's state file may stay: the next run replaces it)
        return sorted(p.name for p in gen.iterdir() if not p.name.startswith("state-"))

    files = segment_files()
    r = faulty(ENOSPC_AFTER.format(budget=budget), "index", corpus, "--index", index_dir, "-q", "--compact")
    assert r.returncode == 74, r.stderr
    assert "no space left on device" in one_line(r.stderr).lower()
    assert stored(index_dir) == before
    assert segment_files() == files  # what the failed merge wrote is gone
    r = cli("index", corpus, "--index", index_dir, "-q", "--compact", "--wait", "0")
    assert r.returncode == 0, r.stderr
    assert stored(index_dir) == before
    assert len(list(store.current_generation_dir(index_dir).glob("*.chars"))) == 1


@pytest.fixture
def tmpfs(tmp_path):
    if not IS_ROOT:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _tmpfs_overflow(tmp_path: Path, mnt: Path):
    corpus, extra, old = _growing_corpus(tmp_path, 10, 190)
    index_dir = mnt / "index"
    assert cli("index", corpus, "--index", index_dir, "-q").returncode == 0
    size_before = tree_bytes(index_dir)
    _add(corpus, extra)
    r = cli("index", corpus, "--index", index_dir, "-q")
    return corpus, index_dir, old, size_before, r


def test_tmpfs_full_previous_index_intact(tmp_path, tmpfs):
    corpus, index_dir, old, _, r = _tmpfs_overflow(tmp_path, tmpfs)
    assert r.returncode != 0
    assert stored(index_dir) == old
    s = cli("search", "--index", index_dir, "中国")
    assert s.returncode in (0, 1) and "Traceback" not in s.stderr


def test_tmpfs_full_says_so_and_exits_74(tmp_path, tmpfs):
    corpus, index_dir, old, size_before, r = _tmpfs_overflow(tmp_path, tmpfs)
    assert r.returncode == 74, r.stderr
    assert "no space left on device" in one_line(r.stderr).lower()


def test_tmpfs_full_failed_write_gives_the_space_back(tmp_path, tmpfs):
    corpus, index_dir, old, size_before, r = _tmpfs_overflow(tmp_path, tmpfs)
    assert r.returncode != 0 and stored(index_dir) == old
    assert tree_bytes(index_dir) <= size_before * 1.1 + 65536, (size_before, tree_bytes(index_dir))


def test_tmpfs_completely_full(tmp_path, tmpfs):
    corpus, extra, old = _growing_corpus(tmp_path, 5, 0)
    index_dir = tmpfs / "index"
    assert cli("index", corpus, "--index", index_dir, "-q").returncode == 0
    (index_dir / "write.lock").write_bytes(b"")
    with open(tmpfs / "filler", "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    r = cli("index", corpus, "--index", index_dir, "-q")
    assert stored(index_dir) == old
    no_traceback(r.stderr)
    assert r.returncode == 0 or (r.returncode == 74 and "no space left" in one_line(r.stderr).lower())


# ================================================================ concurrency

SLOW_WALK = """
import time
from indexer import writer
_walk = writer.walk_corpus
def slow(*a, **k):
    time.sleep({seconds})
    return _walk(*a, **k)
writer.walk_corpus = slow
"""


def test_second_indexer_waits_then_names_the_holder(small_copy):
    corpus, index_dir = small_copy
    first = subprocess.Popen([*driver(SLOW_WALK.format(seconds=5)), "index", str(corpus), "--index", str(index_dir), "-q"],
                             stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        wait_for_lock(index_dir, first.pid)
        started = time.monotonic()
        second = cli("index", corpus, "--index", index_dir, "--wait", "1")
        waited = time.monotonic() - started
        assert second.returncode == 75, second.stderr
        line = one_line(second.stderr)
        assert f"pid {first.pid} on {socket.gethostname()}, since " in line
        assert re.search(r"since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", line), line
        assert str(index_dir) in line and waited >= 1.0
        compact = cli("index", corpus, "--index", index_dir, "--compact", "--wait", "0")
        assert compact.returncode == 75 and f"pid {first.pid} on " in one_line(compact.stderr), compact.stderr

        assert first.poll() is None  # still holding the lock
        third = cli("index", corpus, "--index", index_dir, "--wait", "60", "-q")
        assert third.returncode == 0, third.stderr  # it waited for the first, then ran
    finally:
        first.wait(timeout=60)
    assert first.returncode == 0, first.stderr.read()
    assert stored(index_dir) == expected_state(corpus)
    assert len(generations(index_dir)) == 1


def test_two_indexers_started_together(lab, tmp_path):
    index_dir = _fresh_copy(lab, tmp_path / "index")
    procs = [subprocess.Popen([*ZH, "index", str(lab.corpus), "--index", str(index_dir), "-q", "--wait", "60"],
                              stderr=subprocess.PIPE, text=True, env=ENV) for _ in range(2)]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    assert stored(index_dir) == lab.new
    assert len(generations(index_dir)) == 1


def test_stale_lock_of_a_killed_indexer_does_not_block(small_copy):
    corpus, index_dir = small_copy
    p = subprocess.Popen([*driver(SLOW_WALK.format(seconds=30)), "index", str(corpus), "--index", str(index_dir), "-q"],
                         stderr=subprocess.DEVNULL, env=ENV)
    wait_for_lock(index_dir, p.pid)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    assert f"pid {p.pid} " in (index_dir / "write.lock").read_text()  # the holder line stays behind...
    started = time.monotonic()
    r = cli("index", corpus, "--index", index_dir, "--wait", "0", "-q")
    assert r.returncode == 0, r.stderr  # ...but the kernel released the lock with its holder
    assert time.monotonic() - started < 30
    assert len(stored(index_dir)) == 3


def test_searches_keep_working_while_an_indexer_commits(lab, tmp_path):
    import search

    index_dir = _fresh_copy(lab, tmp_path / "index")
    old_total, new_total = lab.query_totals
    added = next(u for u in lab.new if u not in lab.old)
    ix = search.open_index(index_dir)
    p = subprocess.Popen([*ZH, "index", str(lab.corpus), "--index", str(index_dir), "-q"],
                         stderr=subprocess.PIPE, text=True, env=ENV)
    rounds = fresh_totals = 0
    seen_new = False
    try:
        while p.poll() is None:
            assert ix.search("中国", limit=5).total == old_total  # one snapshot until refresh()
            with search.open_index(index_dir) as other:
                total = other.search("中国", limit=5).total
                assert total in (old_total, new_total)
                seen_new |= total == new_total
                fresh_totals += 1
            rounds += 1
        assert p.returncode == 0, p.stderr.read()
        ix.refresh()
        assert ix.search("中国", limit=5).total == new_total
        assert ix.get(added) is not None
    finally:
        ix.close()
    assert _hits(index_dir) == new_total
    print(f"{rounds} search rounds ({fresh_totals} fresh opens) during the update; new state seen mid-run: {seen_new}")
    assert rounds >= 3


def test_open_index_keeps_answering_through_a_rebuild(lab, tmp_path):
    import search

    index_dir = _fresh_copy(lab, tmp_path / "index")
    old_gen = store.current_generation_dir(index_dir)
    ix = search.open_index(index_dir)
    p = subprocess.Popen([*ZH, "index", str(lab.corpus), "--index", str(index_dir), "-q", "--rebuild"],
                         stderr=subprocess.PIPE, text=True, env=ENV)
    rounds = 0
    try:
        while p.poll() is None:
            assert ix.search("中国", limit=5).total == lab.query_totals[0]
            rounds += 1
        assert p.returncode == 0, p.stderr.read()
        assert not old_gen.exists()  # its files are gone from the folder, still open here
        assert ix.search("中国", limit=5).total == lab.query_totals[0]
        assert len(ix.search("中国", limit=0)) == lab.query_totals[0]
    finally:
        ix.close()
    assert stored(index_dir) == lab.new and rounds >= 3


def test_refresh_after_a_rebuild_sees_the_new_generation(small_copy):
    import search

    corpus, index_dir = small_copy
    ix = search.open_index(index_dir)
    try:
        (corpus / "d.md").write_bytes(article("https://www.rfi.fr/cn/d", "重建后的新文章"))
        update_index([corpus], index_dir, rebuild=True)
        ix.refresh()
        assert ix.get("https://www.rfi.fr/cn/d") is not None
    finally:
        ix.close()


def test_open_index_during_the_generation_swap(small_copy, monkeypatch):
    import search

    corpus, index_dir = small_copy
    from indexer import meta

    real = meta.check_meta
    swapped = []

    def rebuild_in_between(*args, **kwargs):  # a rebuild lands between reading CURRENT and opening it
        if not swapped:
            swapped.append(update_index([corpus], index_dir, rebuild=True))
        return real(*args, **kwargs)

    monkeypatch.setattr(meta, "check_meta", rebuild_in_between)
    with search.open_index(index_dir) as ix:
        assert ix.search("卡塔尔").total == 1


# ================================================================ bad queries

BAD_QUERIES = {
    # kind: (query words, message fragment); each must exit 2 with one line, and raise QuerySyntaxError
    "empty": ([""], "empty query"),
    "whitespace": (["  \t "], "empty query"),
    "ASCII punctuation": (["...!?;"], "no searchable words"),
    "CJK punctuation": (["，。！？…、；：～"], "no searchable words"),
    "10,000 Han characters": (["中" * 10_000], "too long"),
    "10,000 characters of words": (["ab " * 3333 + "c"], "too long"),
    "deep groups": (["(" * 40 + "卡塔尔" + ")" * 40], "nested parentheses"),
    "unbalanced quote": (['"卡塔尔 人质'], "unbalanced quote"),
    "unbalanced CJK quote": (["“卡塔尔 人质"], "unbalanced quote"),
    "unbalanced (": (["(卡塔尔 人质"], "unbalanced parenthesis"),
    "unbalanced )": (["卡塔尔 人质)"], "unbalanced parenthesis"),
    "unknown field": (["foo:bar"], "unknown field 'foo'"),
    "dangling OR": (["卡塔尔 OR"], "'OR' needs"),
    "lone NOT": (["NOT"], "'NOT' needs"),
    "purely negative": (["-卡塔尔"], "positive term"),
    "empty phrase": (['""'], "empty phrase"),
}
CONTROL_QUERIES = {
    # kind: (query, exit code) -- control characters are spaces
    "NUL between words": ("卡塔尔\x00人质", 0),
    "C0 controls": ("\x01卡塔尔\x07人质\x1f", 0),
    "DEL": ("卡塔尔\x7f", 0),
    "invalid UTF-8 in argv": ("卡塔尔\udcff", 0),
}


def _invoke(*args):
    from search.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


def _clean_result(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    no_traceback(result.output)


@pytest.mark.parametrize("kind", list(BAD_QUERIES))
def test_bad_query_is_one_line_exit_2(small, kind):
    words, fragment = BAD_QUERIES[kind]
    result = _invoke("search", "--index", small[1], "--", *words)
    _clean_result(result)
    assert result.exit_code == 2
    assert one_line(result.stderr).startswith("zhsearch: ") and fragment in result.stderr
    import search

    with search.open_index(small[1]) as ix, pytest.raises(QuerySyntaxError):
        ix.search(" ".join(words))


@pytest.mark.parametrize("kind", list(CONTROL_QUERIES))
def test_control_characters_in_queries(small, kind):
    query, code = CONTROL_QUERIES[kind]
    result = _invoke("search", "--index", small[1], "--json", query)
    _clean_result(result)
    assert result.exit_code == code, result.stderr
    assert orjson.loads(result.stdout.splitlines()[0])["title"] == "卡塔尔斡旋哈马斯释放人质"


def test_bad_date_is_one_line_exit_2(small):
    for value in ("yesterday", "99999-01-01", "2020-13-45", "\udcff"):
        result = _invoke("search", "--index", small[1], "--since", value, "卡塔尔")
        _clean_result(result)
        assert result.exit_code == 2 and "not a date" in one_line(result.stderr)


def test_no_hits_message_does_not_echo_escape_sequences(small):
    result = _invoke("search", "--index", small[1], "\x1b[2J\x1b]0;pwned\x07不存在的词")
    _clean_result(result)
    assert result.exit_code == 1
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", result.stderr), repr(result.stderr)


def test_show_url_with_invalid_utf8(small):
    r = subprocess.run([*ZH, "show", "--index", str(small[1]), os.fsdecode(b"http://www.rfi.fr/cn/\xff")],
                       capture_output=True, text=True, errors="replace", env=ENV, timeout=60)
    no_traceback(r.stderr)
    assert r.returncode == 1 and "no indexed article" in one_line(r.stderr)


# ================================================================ bad indexes


def _damage(kind: str, index_dir: Path) -> None:
    gen = store.current_generation_dir(index_dir)
    if kind == "CURRENT points nowhere":
        (index_dir / "CURRENT").write_text("gen-19700101T000000-gone\n")
    elif kind == "CURRENT empty":
        (index_dir / "CURRENT").write_bytes(b"")
    elif kind == "CURRENT binary":
        (index_dir / "CURRENT").write_bytes(b"\xff\xfe\x00garbage")
    elif kind == "CURRENT escapes the folder":
        (index_dir / "CURRENT").write_text(f"gen-x/../../{gen.name}\n")
    elif kind == "other schema version":
        meta = orjson.loads((gen / store.META).read_bytes())
        meta["schema_version"] = 999
        (gen / store.META).write_bytes(orjson.dumps(meta))
    elif kind == "zhsearch.json broken":
        (gen / store.META).write_bytes(b"{not json")
    elif kind == "no Whoosh TOC":
        for toc in gen.glob("*.toc"):
            toc.unlink()
    elif kind == "truncated segment":
        for seg in gen.glob("*.seg"):
            os.truncate(seg, seg.stat().st_size // 2)
    elif kind == "missing state file":
        for state in gen.glob("state-*.json"):
            state.unlink()
    elif kind == "truncated character index":
        for chars in gen.glob("*.chars"):
            os.truncate(chars, chars.stat().st_size // 2)
    elif kind == "missing character index":
        for chars in gen.glob("*.chars"):
            chars.unlink()


BAD_INDEXES = {
    # kind: (search message fragment or None when search works, index message fragment, xfail reason)
    "CURRENT points nowhere": ("names no generation folder", "rebuild", None),
    "CURRENT empty": ("names no generation folder", "rebuild", None),
    "CURRENT binary": ("CURRENT", "CURRENT", None),
    "CURRENT escapes the folder": ("names no generation folder", "rebuild", None),
    "other schema version": ("--rebuild", "--rebuild", None),
    "zhsearch.json broken": ("rebuild", "rebuild", None),
    "no Whoosh TOC": ("damaged", "rebuild", None),
    "truncated segment": ("rebuild", None, None),
    "missing state file": (None, "rebuild", None),
    "truncated character index": ("rebuild", None, None),
    "missing character index": ("rebuild", None, None),
}


@pytest.mark.parametrize("kind", [
    pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=v[2])) if v[2] else k for k, v in BAD_INDEXES.items()])
def test_damaged_index_clear_message_and_rebuild(small_copy, kind):
    corpus, index_dir = small_copy
    search_says, index_says, _ = BAD_INDEXES[kind]
    _damage(kind, index_dir)
    r = _invoke("search", "--index", index_dir, "卡塔尔")
    _clean_result(r)
    if search_says is None:
        assert r.exit_code == 0
    else:
        assert r.exit_code == 2 and search_says in one_line(r.stderr), r.stderr
    r = _invoke("index", corpus, "--index", index_dir, "-q")
    _clean_result(r)
    if index_says is None:
        assert r.exit_code == 0
    else:
        assert r.exit_code == 2 and index_says in one_line(r.stderr), r.stderr
    r = _invoke("index", corpus, "--index", index_dir, "-q", "--rebuild")
    _clean_result(r)
    assert r.exit_code == 0, r.stderr
    assert len(stored(index_dir)) == 3 and len(generations(index_dir)) == 1


def test_folders_that_are_not_indexes(tmp_path, small):
    corpus, _ = small
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "holiday.jpg").write_bytes(b"\xff\xd8\xff")
    a_file = tmp_path / "index.txt"
    a_file.write_text("not a folder")
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = {
        photos: ("is not a zhsearch index", "neither a zhsearch index nor empty"),
        a_file: ("not a folder", "neither a zhsearch index nor empty"),
        tmp_path / "missing": ("no index at", None),
        empty: ("no index at", None),
    }
    for path, (search_says, index_says) in cases.items():
        r = _invoke("search", "--index", path, "卡塔尔")
        _clean_result(r)
        assert r.exit_code == 2 and search_says in one_line(r.stderr), (path, r.stderr)
        for command in ("stats",):
            r = _invoke(command, "--index", path)
            _clean_result(r)
            assert r.exit_code == 2 and search_says in one_line(r.stderr)
        if index_says:
            r = _invoke("index", corpus, "--index", path, "-q")
            _clean_result(r)
            assert r.exit_code == 2 and index_says in one_line(r.stderr)
    assert sorted(p.name for p in photos.iterdir()) == ["holiday.jpg"]
    assert a_file.read_text() == "not a folder"


@pytest.fixture
def read_only(small_copy):
    corpus, index_dir = small_copy
    modes = {p: p.stat().st_mode for p in [index_dir, *index_dir.rglob("*")]}
    for p in modes:
        p.chmod(stat.S_IMODE(modes[p]) & ~0o222)
    yield corpus, index_dir
    for p, mode in modes.items():
        p.chmod(stat.S_IMODE(mode))


def test_read_only_index_can_be_searched(read_only):
    corpus, index_dir = read_only
    r = _invoke("search", "--index", index_dir, "--json", "卡塔尔")
    _clean_result(r)
    assert r.exit_code == 0 and len(r.stdout.splitlines()) == 1
    assert _invoke("stats", "--index", index_dir).exit_code == 0


def test_read_only_index_says_why_it_cannot_write(read_only, monkeypatch):
    corpus, index_dir = read_only
    if IS_ROOT:  # permissions are not enforced for root: exercise the os.access check instead
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, **k: False if mode & os.W_OK else real(p, mode, **k))
    r = _invoke("index", corpus, "--index", index_dir, "-q")
    _clean_result(r)
    assert r.exit_code == 2
    line = one_line(r.stderr)
    assert f"cannot write to {index_dir}" in line and "permission denied" in line and "search" in line


@pytest.mark.skipif(IS_ROOT, reason="root writes into read-only folders: a real permission error cannot be staged")
def test_read_only_index_really_denied(read_only):
    corpus, index_dir = read_only
    r = cli("index", corpus, "--index", index_dir, "-q")
    no_traceback(r.stderr)
    assert r.returncode == 2 and "permission denied" in one_line(r.stderr)
