"""jieba's dictionary as a table of word hashes, so that a query is cut without loading it whole.

rjieba builds its whole dictionary (349,045 words in a double-array trie) when it is
imported: ~0.15 s, a quarter of a cold `zhsearch search`, to cut a query of a few words.
jieba's cut of a text reads only two things from its dictionary (jieba-rs `dag`, `calc`
and the HMM's check of unknown runs): the frequencies of the dictionary words that occur
in the text, and the dictionary's total frequency. So an empty rjieba `Jieba`, given the
words that occur in the text with their frequencies and one filler word that brings its
total to the whole dictionary's, cuts that text exactly as the whole dictionary does
(all 149,668 sentences of the pool were cut alike; tests/test_jieba_words.py checks one in eight).

The table is made from jieba's dict.txt, the file jieba-rs embeds, and checked against
rjieba (every word known to it, sample texts cut alike) before it is kept. It depends only
on the installed packages, so it lives in the user cache (user_cache.py), named for the
rjieba and jieba files it was made from: after an upgrade it is made again. It is
made at the end of an index run, in a process of its own, or by a search that found none
(it loads rjieba's own dictionary anyway). Without it (no cache folder, `ZHSEARCH_CACHE=off`, a user
dictionary, text the filler could collide with) queries are cut with rjieba's own
dictionary, as before.

Words are keyed by a 64-bit FNV-1a hash of their code points; the 349,045 keys are checked
distinct when the table is made. A substring of a query that is no word could share a
word's key with odds of ~2e-14.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import sys
import zlib
from pathlib import Path

import numpy as np

from . import user_cache

FORMAT = 2  # in the file's first line and its name: a new layout is another file
MAGIC = f"zhsearch-jieba-words {FORMAT}\n".encode()
KIND = "jieba-words-"  # the table's name in the user cache: KIND, FORMAT, a digest of its sources
LONGEST = 16  # jieba's longest word, in characters; a longer table word is refused
FILLER = "\uffff"  # a noncharacter: text holding it is cut with the whole dictionary
_OFFSET, _PRIME, _MASK = 0xCBF29CE484222325, 0x100000001B3, (1 << 64) - 1


def word_key(word: str) -> int:
    h = _OFFSET
    for ch in word:
        h = ((h ^ ord(ch)) * _PRIME) & _MASK
    return h


def _keys(words: list[str]) -> np.ndarray:
    """word_key of every word, computed a column of characters at a time."""
    cps = np.array(words, dtype=f"<U{LONGEST}").view(np.uint32).reshape(len(words), LONGEST)
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    h = np.full(len(words), _OFFSET, dtype=np.uint64)
    prime = np.uint64(_PRIME)
    for col in range(LONGEST):
        live = lengths > col
        h[live] = (h[live] ^ cps[live, col].astype(np.uint64)) * prime  # uint64 arrays wrap
    return h


# --- where the table is kept ----------------------------------------------------------------


def _package_file(package: str, names) -> Path | None:
    spec = importlib.util.find_spec(package)  # finds, does not import
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(spec.submodule_search_locations[0])
    return next((folder / n for n in names if (folder / n).is_file()), None)


def _rjieba_extension() -> Path | None:
    return _package_file("rjieba", [f"rjieba{s}" for s in importlib.machinery.EXTENSION_SUFFIXES])


def _sources() -> dict | None:
    """The files the table is made from, as (path, size, mtime_ns): what names it."""
    files = {"rjieba": _rjieba_extension(), "dict": _package_file("jieba", ["dict.txt"])}
    if None in files.values():
        return None
    out = {}
    for name, path in files.items():
        st = path.stat()
        out[name] = [str(path), st.st_size, st.st_mtime_ns]
    return out


def table_name(sources: dict | None = None) -> str | None:
    import hashlib

    sources = sources if sources is not None else _sources()
    if sources is None or user_cache.cache_dir() is None:
        return None
    digest = hashlib.blake2b(json.dumps(sources, sort_keys=True).encode(), digest_size=8).hexdigest()
    return f"{KIND}{FORMAT}-{digest}.bin"


# --- making it --------------------------------------------------------------------------------


def _read_dict(path: Path) -> dict[str, int]:
    # jieba-rs load_dict: whitespace-split fields, a word given twice keeps its last frequency,
    # and the total is the sum over distinct words.
    words: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if fields:
            words[fields[0]] = int(fields[1]) if len(fields) > 1 else 0
    return words


def _samples(words: list[str]) -> list[str]:
    # Runs of dictionary words side by side, so that cuts have choices to make.
    picked = words[::101]
    return ["".join(picked[i : i + 7]) for i in range(0, len(picked), 7)]


def build(rjieba) -> bytes | None:
    """The table's bytes, or None where jieba's dict.txt is not what `rjieba` (loaded) holds."""
    sources = _sources()
    if sources is None:
        return None
    freqs = _read_dict(Path(sources["dict"][0]))
    words = list(freqs)
    if any(len(w) > LONGEST for w in words) or not all(map(rjieba.has_word, words)):
        return None
    keys = _keys(words)
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    if len(keys) and (keys[1:] == keys[:-1]).any():
        return None
    values = np.fromiter(freqs.values(), dtype=np.uint64, count=len(words))[order]
    table = _Table(keys, values, int(values.sum()))
    for text in _samples(words):
        mine = table.jieba_for(text)
        if mine is None or mine.tokenize(text, "default", True) != rjieba.tokenize(text, "default", True):
            return None
    body = keys.astype("<u8").tobytes() + values.astype("<u8").tobytes()
    head = json.dumps({"sources": sources, "words": len(keys), "total": table.total,
                       "crc32": zlib.crc32(body)}).encode() + b"\n"
    head += b" " * (-(len(MAGIC) + len(head)) % 8)
    return MAGIC + head + body


def _wanted() -> bool:
    """A cache folder is there and the table in it is missing or damaged."""
    return table_name() is not None and open_table() is None


def ensure_table(rjieba=None) -> None:
    """Make the table for the installed packages if it is missing or damaged (gives up quietly
    if it can't). Making it leaves ~35 MB of freed strings in the process that made it: the
    indexer has it made apart (ensure_table_apart)."""
    if not _wanted():
        return
    if rjieba is None:
        import rjieba
    data = build(rjieba)
    if data is not None:
        user_cache.save(table_name(), data, KIND)


def ensure_table_apart() -> None:
    """ensure_table in a process of its own (~1.5 s, once per installation), where it is needed."""
    if not _wanted():
        return
    import subprocess

    code = "from indexer import jieba_words; jieba_words.ensure_table()"
    subprocess.run([sys.executable, "-c", code], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=300, cwd=Path(__file__).resolve().parents[1])


# --- using it ---------------------------------------------------------------------------------


def bare_jieba_class():
    """rjieba's `Jieba` class, without the import of `rjieba` that builds its default dictionary.

    The extension module is registered under its own name, so a later `import rjieba` uses it."""
    mod = sys.modules.get("rjieba.rjieba")
    if mod is None:
        path = _rjieba_extension()
        loader = importlib.machinery.ExtensionFileLoader("rjieba.rjieba", str(path))
        spec = importlib.util.spec_from_file_location("rjieba.rjieba", path, loader=loader)
        mod = importlib.util.module_from_spec(spec)
        loader.exec_module(mod)
        sys.modules["rjieba.rjieba"] = mod
    return mod.Jieba


class _Table:
    def __init__(self, keys: np.ndarray, freqs: np.ndarray, total: int):
        self.keys, self.freqs, self.total = keys, freqs, total
        self._jieba = bare_jieba_class()

    def jieba_for(self, text: str):
        """An rjieba Jieba that cuts `text` as jieba's whole dictionary does; None if it can't."""
        if FILLER in text:
            return None
        subs, hashes = [], []
        n = len(text)
        for i in range(n):
            h = _OFFSET
            for j in range(i, min(n, i + LONGEST)):
                h = ((h ^ ord(text[j])) * _PRIME) & _MASK
                subs.append((i, j + 1))
                hashes.append(h)
        jieba = self._jieba.empty()
        found = 0
        if hashes:
            want = np.array(hashes, dtype=np.uint64)
            at = np.searchsorted(self.keys, want)
            np.minimum(at, len(self.keys) - 1, out=at)
            seen = set()
            for k in np.flatnonzero(self.keys[at] == want).tolist():
                i, j = subs[k]
                word = text[i:j]
                if word not in seen:
                    seen.add(word)
                    freq = int(self.freqs[at[k]])
                    jieba.add_word(word, freq, None)
                    found += freq
        jieba.add_word(FILLER, self.total - found, None)
        return jieba


def open_table() -> _Table | None:
    """The table for the installed packages, if it has been made and reads back whole."""
    name = table_name()
    data = user_cache.load(name) if name is not None else None
    if data is None or not data.startswith(MAGIC):
        return None
    end = data.find(b"\n", len(MAGIC))
    try:
        head = json.loads(data[len(MAGIC) : end])
        n, total, crc = int(head["words"]), int(head["total"]), int(head["crc32"])
    except (ValueError, KeyError, TypeError):
        return None
    start = end + 1 + (-(end + 1) % 8)
    # a damaged table would cut queries wrongly without a word of warning (~3 ms to check)
    if n < 1 or len(data) != start + 16 * n or zlib.crc32(memoryview(data)[start:]) != crc:
        return None
    keys = np.frombuffer(data, dtype="<u8", count=n, offset=start)
    freqs = np.frombuffer(data, dtype="<u8", count=n, offset=start + 8 * n)
    return _Table(keys, freqs, total)
