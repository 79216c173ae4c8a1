"""Bringing an index up to date with its corpus folders, touching only what changed."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, NamedTuple

from . import MEMORY_MB, analysis, arrivals, store
from .errors import ArticleParseError, IndexUnusable, IndexWriteFailed, ZhsearchError
from .lock import WriteLock
from .meta import check_meta, index_meta
from .reader import MAX_FILE_BYTES, Article, parse_article
from .store import FileState
from .walk import DEFAULT_PATTERNS, CorpusFile, walk_corpus
from .worklist import FileToWrite, WorkList

Warn = Callable[[str, str], None]


@dataclass
class IndexSummary:
    """The counts of one indexing run (files, except `documents`)."""

    seen: int = 0
    new: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    duplicates: int = 0  # files whose URL another file also has; one document is indexed per URL
    skipped: int = 0
    documents: int = 0  # documents in the index after the run
    seconds: float = 0.0
    rebuilt: bool = False
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.seen} files seen: {self.new} new, {self.changed} changed, {self.removed} removed, "
            f"{self.duplicates} duplicates, {self.skipped} skipped; "
            f"{self.documents} documents in the index ({self.seconds:.1f} s)"
        )


def _recorded_userdict(index_dir: Path) -> analysis.UserDict | None:
    """The dictionary of the live index, if it has one and it can be read (for a rebuild)."""
    try:
        meta = store.read_meta(store.current_generation_dir(index_dir))
        return analysis.UserDict.from_meta(meta.get("userdict"))
    except (ZhsearchError, ValueError, AttributeError):
        return None


def update_index(
    corpus_dirs: Iterable[str | Path],
    index_dir: str | Path,
    *,
    rebuild: bool = False,
    patterns: Iterable[str] = DEFAULT_PATTERNS,
    wait: float = 5.0,
    progress: bool = False,
    on_warning: Warn | None = None,
    limitmb: int = MEMORY_MB,
    userdict: str | os.PathLike | None = None,
    compact: bool = False,
    variants: str | os.PathLike | None = None,
) -> IndexSummary:
    """Index new and changed article files, drop deleted ones; return the run's counts.

    `userdict`: a user dictionary file (see analysis.read_userdict), recorded in the
    index; without it the index keeps the dictionary it was built with (a rebuild
    too; an empty file means none). Raises IndexLocked if another indexer keeps the
    lock longer than `wait` seconds, IndexVersionMismatch if the index needs a
    rebuild (another version, or another user dictionary), UserDictError,
    CorpusNotFound, IndexUnusable and IndexWriteFailed. Whatever happens, the
    previous index stays readable: nothing is visible to searchers before the final commit.
    `limitmb`: megabytes of postings held in memory (by both processes together, see
    parallel.py) before a segment is written and another begun. `compact`: after the
    update, merge every segment into one (merge.py; the one-off after a big import).
    parallel.py) before a segment is written and another begun.
    `variants`: a name-variants file (search/variants.py) kept with the index and used by
    its searches; without it the index keeps its own, an empty file removes them. Searches
    expand variants at query time, so replacing them needs no rebuild (VariantsError).
    """
    started = time.monotonic()
    index_dir = Path(index_dir)
    summary = IndexSummary(rebuilt=rebuild)
    wanted = None if userdict is None else analysis.read_userdict(userdict)
    groups = None
    if variants is not None:
        from search.variants import read_variants

        groups = read_variants(variants, allow_empty=True)

    def warn(path: str, reason: str) -> None:
        summary.warnings.append((path, reason))
        if on_warning is not None:
            on_warning(path, reason)

    for problem in groups.warnings if groups is not None else ():
        warn(groups.source, problem)

    if not store.is_index_or_empty(index_dir):
        raise IndexUnusable(f"{index_dir} is neither a zhsearch index nor empty; refusing to write there")
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexUnusable(f"cannot create {index_dir}: {exc.strerror}") from exc
    if not os.access(index_dir, os.W_OK):
        raise IndexUnusable(f"cannot write to {index_dir} (permission denied); searching it still works")

    lock = WriteLock(index_dir)
    lock.acquire(wait)
    try:
        _run(index_dir, [Path(d) for d in corpus_dirs], tuple(patterns), rebuild, progress, limitmb, warn, summary,
             wanted, compact)
        if groups is not None:
            store.write_variants(index_dir, _variants_text(groups) if groups.groups else None)
    except OSError as exc:  # a full disk or a read-only folder met outside the commit itself
        raise IndexWriteFailed(f"could not write the index in {index_dir}: {exc.strerror or exc}; "
                               f"the previous index is intact") from exc
    finally:
        lock.release()
    try:
        from . import jieba_words

        jieba_words.ensure_table_apart()  # for the searches that follow: indexer/jieba_words.py
    except Exception:  # a cache is never worth a failed run
        pass
    summary.seconds = time.monotonic() - started
    return summary


def _variants_text(groups) -> str:
    return (f"# name variants kept with this index (zhsearch index --variants), from {groups.source}\n"
            + groups.to_text())


def _run(index_dir, corpus_dirs, patterns, rebuild, progress, limitmb, warn, summary, wanted=None,
         compact=False) -> None:
    from whoosh import index as whoosh_index

    from .codec import mapped
    from .schema import build_schema

    mapped.install()
    fresh = rebuild or not (index_dir / store.CURRENT).exists()
    if fresh:
        userdict = wanted if wanted is not None else _recorded_userdict(index_dir) if rebuild else None
        analysis.use_userdict(userdict)  # before any text is segmented
        gen_dir = store.new_generation_dir(index_dir)
        try:
            # (what a rebuild reads of the live index is not bound here: _update lets go of it)
            _update(index_dir, gen_dir, whoosh_index.create_in(gen_dir, build_schema()), _Plan({}, warn, summary),
                    True, corpus_dirs, patterns, progress, limitmb, warn, summary, userdict,
                    previous=arrivals.read_live(index_dir, _winner_key) if rebuild else None, compact=compact)
        except BaseException:
            # An unpublished generation is nobody's: give its space back now.
            shutil.rmtree(gen_dir, ignore_errors=True)
            raise
        store.publish(index_dir, gen_dir)
    else:
        gen_dir = store.current_generation_dir(index_dir)
        analysis.use_userdict(check_meta(gen_dir, index_dir, wanted))
        try:
            ix = whoosh_index.open_dir(gen_dir)
            # the plan owns the recorded states (nothing else binds them): _update lets go of them
            plan = _Plan(store.load_state(gen_dir, ix.latest_generation()), warn, summary)
        except (whoosh_index.EmptyIndexError, EOFError, ValueError, KeyError, pickle.UnpicklingError) as exc:
            raise IndexUnusable(f"the index at {index_dir} is damaged ({exc!r}); "
                                f"run `zhsearch index --rebuild`") from exc
        _update(index_dir, gen_dir, ix, plan, False, corpus_dirs, patterns, progress, limitmb, warn,
                summary, None, compact=compact)
    store.remove_other_generations(index_dir, keep=gen_dir)


def _update(index_dir, gen_dir, ix, plan: _Plan, fresh, corpus_dirs, patterns, progress, limitmb, warn, summary,
            userdict, previous: arrivals.Previous | None = None, compact: bool = False) -> None:
    """`plan`: a _Plan of the recorded states (none for a fresh index), not yet visited."""
    if fresh:
        store.write_meta(gen_dir, index_meta(userdict))
    disk = walk_corpus(corpus_dirs, patterns, warn)
    summary.seen = len(disk)
    bar = _progress(None, progress, "reading", len(disk))
    plan.visit_all(list(disk.values()), bar.update if bar is not None else lambda n: None)
    if bar is not None:
        bar.close()
    for rel in plan.old.keys() - disk.keys():
        plan.forget(rel)

    to_write = plan.documents_to_write()
    if to_write or fresh or compact:
        from .parallel import add_articles
        from .segment import BulkWriter

        run = arrivals.start_run(ix, previous, fresh, to_write, plan.state)
        # a rebuild's record of every URL before it was for the plan: keep only its last change
        carried, previous = (previous.last if previous is not None else None), None
        writer = BulkWriter(ix, limitmb=limitmb)
        try:
            stale = [url for url, _, indexed in to_write if indexed]
            if stale:
                # One searcher for every deletion: update_document and delete_by_term open
                # one each, which cost 66 ms a document on the pool.
                from whoosh import query as wq

                writer.delete_by_query(wq.Or([wq.Term("url", url) for url in stale]))
            files = plan.work_list(rel for _, rel, _ in to_write if rel is not None)
            # What only planning needed goes before the fork (parallel.py), which would share it with
            # the second process for the whole writing: at x100 the walk's record of every file, the
            # list of documents to write and the plan's sets (estimated ~100 MB; a x100 build was
            # ~70 MB lower at the same point of its writing).
            del disk
            to_write = None
            plan.planned()
            summary.duplicates, summary.documents = plan.duplicates(), plan.document_count()
            # The state is written now (before the commit, as always: store.py) and let go of for the
            # writing, read back only if a file cannot be written: at x100 the per-file states were
            # ~550 bytes a file (tracemalloc on the pool), 250 MB held through the whole writing.
            store.save_state(gen_dir, writer.generation, plan.state)
            plan.state = plan.old = None
            bar = _progress(None, progress, "indexing", len(files))
            problems = add_articles(writer, files, plan.article, bar.update if bar is not None else lambda n: None,
                                    run.columns if run is not None else None)
            if bar is not None:
                bar.close()
            failed = set()
            if problems:  # rare (a file changed or vanished since it was read): the states come back
                plan.state = store.load_state(gen_dir, writer.generation)
                for item, reason in problems:
                    plan.not_written(item, reason)
                store.save_state(gen_dir, writer.generation, plan.state)
                failed = {st.url for item, _ in problems if (st := plan.state.get(item.rel)) is not None}
            if run is not None:  # before the commit, as the state: see arrivals.py
                change = run.change(writer.generation, failed, carried)
                store.write_meta(gen_dir, arrivals.with_change(store.read_meta(gen_dir), change))
            # The per-file records are done with: at x100 they are most of the process, and the
            # commit's merges (all of a large import's segments into one) need memory of their own.
            plan = files = stale = run = problems = None
            merging = _MergeBar(progress)
            writer.commit(compact=compact, progress=merging.update)
            merging.close()
        except BaseException as exc:
            _abandon(ix, writer)
            if isinstance(exc, OSError):
                raise IndexWriteFailed(f"could not write the index in {gen_dir}: {exc.strerror or exc}; "
                                       f"the previous index is intact") from exc
            raise
        store.drop_old_states(gen_dir, ix.latest_generation())
    elif plan.state != plan.old:
        store.save_state(gen_dir, ix.latest_generation(), plan.state)
    if plan is not None:
        summary.duplicates = plan.duplicates()
        summary.documents = plan.document_count()


def _abandon(ix, writer) -> None:
    """Cancel a failed write and delete what it wrote; on a full disk even that may fail."""
    from whoosh.index import clean_files

    try:
        writer.cancel()
    except Exception:
        pass
    try:
        toc = ix._read_toc()
        clean_files(ix.storage, ix.indexname, toc.generation, toc.segments)
    except Exception:
        pass  # the next successful commit cleans up instead


def _progress(items: Iterable | None, enabled: bool, desc: str, total: int | None = None):
    """A tqdm bar over `items` (or, with items None, one to update by hand); or items when disabled."""
    total = len(items) if total is None else total
    if not enabled or not total:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, total=total, unit="file" if desc == "reading" else "doc", file=sys.stderr,
                leave=False, dynamic_ncols=True)


class _MergeBar:
    """A progress bar for the merges of a commit, made when the first merge reports."""

    def __init__(self, enabled: bool):
        self.enabled, self.bar = enabled, None

    def update(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            self.bar = _progress(None, True, "merging", total)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _published_ts(article: Article) -> float | None:
    return None if article.published is None else article.published.timestamp()


def _winner_key(item: tuple[str, FileState]):
    # The newer `published` wins (an undated copy loses), then the file modified last.
    rel, st = item
    return (st.published is not None, st.published or 0.0, st.mtime_ns, rel)


# Characters of parsed text kept from the reading pass for the writing pass (~2 bytes each), half
# by each reading process; past it, files are read and parsed again (0.2 ms each) rather than
# holding a large corpus.
PARSED_BUDGET = 8_000_000


class _Plan:
    """Compares the corpus on disk with the recorded file states and collects what changes."""

    def __init__(self, old_state: dict[str, FileState], warn: Warn, summary: IndexSummary):
        self.old = old_state
        self.state = dict(old_state)
        self.warn = warn
        self.summary = summary
        self.read_now: set[str] = set()  # files parsed in this run
        self.parsed: dict[str, Article] = {}  # some of them, kept for the writing pass
        self.touched_urls: set[str] = set()
        self.roots: dict[str, str] = {}  # file -> its corpus folder (the path is made when needed)

    def visit_all(self, files: list[CorpusFile], advance: Callable[[int], None]) -> None:
        """Compare every file on disk with its record: those whose size or modification time
        changed are read (on two cores when there are many: parallel.examine_all)."""
        from .parallel import examine_all

        same = [self._same_stat(cf) for cf in files]
        changed = [cf for cf, alike in zip(files, same) if not alike]
        advance(len(files) - len(changed))
        kept = [0]  # characters of the articles kept by this process (a forked child counts its own)

        def examine(cf: CorpusFile) -> _Seen:
            old = self.old.get(cf.rel)
            seen = _examine(cf, old.digest if old is not None else None)
            if seen.article is not None:
                size = len(seen.article.title) + len(seen.article.lead) + len(seen.article.body)
                if kept[0] + size > PARSED_BUDGET // 2:
                    seen = seen._replace(article=None)
                else:
                    kept[0] += size
            return seen

        found = iter(examine_all(changed, examine, advance, size=lambda cf: cf.size))
        for cf, alike in zip(files, same):
            if alike:
                self.roots[cf.rel] = cf.root
                self._unchanged(cf, self.old[cf.rel])
            else:
                self.visit(cf, next(found))

    def _same_stat(self, cf: CorpusFile) -> bool:
        old = self.old.get(cf.rel)
        return old is not None and old.size == cf.size and old.mtime_ns == cf.mtime_ns

    def visit(self, cf: CorpusFile, seen: _Seen) -> None:
        """Take in a file whose size or modification time changed: `seen`, what reading it found."""
        self.roots[cf.rel] = cf.root
        old = self.old.get(cf.rel)
        s = self.summary
        if seen.unread is not None:
            s.skipped += 1
            self.warn(cf.abspath, seen.unread)
            return
        if seen.state.error is not None:
            self._skip(cf, old, seen.state)
            return
        if old is not None and seen.state.digest == old.digest:
            self.state[cf.rel] = replace(old, size=seen.state.size, mtime_ns=seen.state.mtime_ns)
            self._unchanged(cf, old)
            return
        for message in seen.warnings:
            self.warn(cf.abspath, message)
        self.state[cf.rel] = seen.state
        self.read_now.add(cf.rel)
        if seen.article is not None:
            self.parsed[cf.rel] = seen.article
        self.touched_urls.add(seen.state.url)
        if old is None:
            s.new += 1
        else:
            s.changed += 1
            if old.url:
                self.touched_urls.add(old.url)

    def _unchanged(self, cf: CorpusFile, old: FileState) -> None:
        # A file that was bad and has not changed is still bad: say so on every run.
        self.summary.unchanged += 1
        if old.error:
            self.summary.skipped += 1
            self.warn(cf.abspath, old.error)

    def _skip(self, cf: CorpusFile, old: FileState | None, bad: FileState) -> None:
        self.summary.skipped += 1
        self.warn(cf.abspath, bad.error)
        # A good file turned bad (a fetcher half-way through a write, say) keeps
        # its indexed version and is read again next run.
        if old is None or not old.url:
            self.state[cf.rel] = bad

    def forget(self, rel: str) -> None:
        old = self.state.pop(rel)
        self.summary.removed += 1
        if old.url:
            self.touched_urls.add(old.url)

    def _files_by_url(self, state: dict[str, FileState], urls: set[str]) -> dict[str, list]:
        by_url: dict[str, list] = defaultdict(list)
        for rel, st in state.items():
            if st.url in urls:
                by_url[st.url].append((rel, st))
        return by_url

    def documents_to_write(self) -> list[tuple[str, str | None, bool]]:
        """(url, file, in the index now) for each document to (re)write; file None: delete.

        `article(file)` gives the file's article."""
        urls = self.touched_urls
        before = self._files_by_url(self.old, urls)
        after = self._files_by_url(self.state, urls)
        out: list[tuple[str, str | None, bool]] = []
        for url in sorted(urls):
            files = after.get(url)
            indexed = bool(before.get(url))
            if not files:
                if indexed:
                    out.append((url, None, True))
                continue
            rel, _ = max(files, key=_winner_key)
            previous = max(before[url], key=_winner_key)[0] if before.get(url) else None
            if rel not in self.read_now and rel == previous:
                continue
            out.append((url, rel, indexed))
        return out

    def work_list(self, rels: Iterable[str]) -> WorkList:
        """The files `rels` to write, as `article` takes them."""
        state = self.state
        return WorkList((FileToWrite(rel, self.roots.get(rel, ""), st.digest if (st := state.get(rel)) else "")
                         for rel in rels), size=lambda item: st.size if (st := state.get(item.rel)) else 0)

    def planned(self) -> None:
        """Let go of what only documents_to_write() and work_list() need."""
        self.read_now = self.touched_urls = self.roots = None

    def article(self, item: FileToWrite) -> tuple[Article | None, str | None]:
        """The article of a file to write, kept from the reading pass or read again; or None and why.

        Files are read again when the reading pass kept PARSED_BUDGET characters already,
        and for a duplicate that was not read this run but now wins its URL (its rival is gone).
        What is read again must be what the reading pass recorded (its digest), or the state
        would describe another version than the index holds. This runs in either indexing
        process (parallel.py): it changes nothing here, the caller reports to not_written(), and
        it reads nothing of the reading pass's per-file records but the parsed articles (see
        worklist.py).
        """
        article = self.parsed.pop(item.rel, None)
        if article is not None:
            return article, None
        try:
            data, _, _ = _read(item.abspath)
            if item.digest and item.digest != _digest(data):
                return None, "changed while the indexer ran; it is read again on the next run"
            return parse_article(data, item.rel), None
        except (OSError, ArticleParseError) as exc:
            return None, f"cannot read again: {exc}"

    def not_written(self, item: FileToWrite, reason: str) -> None:
        """A file to write could not be: say so, and have the next run read it again."""
        self.warn(item.abspath, reason)
        recorded = self.state.get(item.rel)
        if recorded is not None:
            self.state[item.rel] = replace(recorded, digest="", mtime_ns=-1)

    def duplicates(self) -> int:
        urls = [st.url for st in self.state.values() if st.url]
        return len(urls) - len(set(urls))

    def document_count(self) -> int:
        return len({st.url for st in self.state.values() if st.url})


class _Seen(NamedTuple):
    """What reading a file found: `unread`, why it could not be read; else its state (with
    `error` for a file that is not an article), its parser's warnings and its article (when kept)."""

    unread: str | None
    state: FileState | None = None
    warnings: tuple[str, ...] = ()
    article: Article | None = None


def _examine(cf: CorpusFile, old_digest: str | None) -> _Seen:
    """Read and parse a file whose size or modification time changed; a file whose content is
    `old_digest` is not parsed. Pure: it runs in either indexing process (parallel.examine_all)."""
    if cf.size > MAX_FILE_BYTES:
        return _Seen(None, FileState(cf.size, cf.mtime_ns, "", error=f"file too large ({cf.size} bytes; the limit is {MAX_FILE_BYTES})"))
    try:
        data, size, mtime_ns = _read(cf.abspath)
    except FileNotFoundError:
        return _Seen("disappeared while the indexer ran")
    except OSError as exc:
        return _Seen(f"cannot read: {(exc.strerror or str(exc)).lower()}")
    digest = _digest(data)
    if digest == old_digest:
        return _Seen(None, FileState(size, mtime_ns, digest))
    try:
        article = parse_article(data, cf.rel)
    except ArticleParseError as exc:
        return _Seen(None, FileState(size, mtime_ns, digest, error=exc.reason))
    return _Seen(None, FileState(size, mtime_ns, digest, article.url, _published_ts(article)),
                 tuple(article.warnings), article)


def _digest(data: bytes) -> str:
    """What FileState records of a file's content."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _read(path: str) -> tuple[bytes, int, int]:
    """The file's bytes with the size and mtime of what was read (not of a stat taken earlier)."""
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        data = fh.read(MAX_FILE_BYTES + 1)
    return data, st.st_size, st.st_mtime_ns
