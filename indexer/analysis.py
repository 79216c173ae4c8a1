"""Text analysis shared by indexing and querying: normalisation, jieba words, Han bigrams.

Normalisation (`normalize`) maps every character to exactly one character, so an
offset into the normalised text is the same offset into the original text:
each character becomes its NFKC form when that form is a single character
(full-width Ｇ７ -> g7, U+3000 and NBSP -> space, compatibility ideographs ->
unified ones), then its lowercase when that is a single character. A character
whose NFKC form is longer (…, Ⅲ, ﬁ) is left exactly as it is. Then the
text is converted from traditional to simplified script with OpenCC's `t2s`
(phrase-aware: 乾燥 -> 干燥 but 乾隆 stays; a second pass where the first
changed anything, see `normalize`), so 卡塔爾 and 卡塔尔 are the same
word to the index, to queries and to highlighting; every t2s mapping is one
character to one, and where a conversion would change the length anyway the
text is converted character by character instead (`_char_table`). No stemming.

A user dictionary (`UserDict`, `read_userdict`, `use_userdict`) adds words to
jieba's dictionary, which is process-global: one process segments with one
dictionary, and asking for another raises UserDictError. A word that the user
dictionary brings in is indexed whole, without search-mode sub-words (布林肯
holds no 林肯: a search for 林肯 finds it only literally).

Tokens (everything else -- punctuation, spaces, symbols, `_` -- yields none):

* Chinese words are jieba's, through `rjieba` (jieba-rs: same dictionary, same
  words as the `jieba` package, much faster). rjieba sees the whole normalised
  text, as jieba would, but only its Han words are kept (see `_scan`).
* The Latin rule, for everything that is not Han: a maximal run of
  letters/digits that are not Han (`[^\\W_]` minus Han, after normalisation,
  `LATIN_RE`) is ONE token, lowercase. `-`, `_`, `.`, `'` and all punctuation
  split: G7 -> g7, 5G -> 5g, iPhone -> iphone, COVID-19 -> covid, 19
  (consecutive positions), ＣＯＶＩＤ１９ -> covid19, 1.5亿 -> 1, 5, 亿. It holds
  for any script (Cyrillic, kana, ...). rjieba's own Latin tokens are not used:
  they differ from jieba's (it keeps COVID-19 whole, jieba splits it).

Positions are token positions, not character offsets (which is what jieba's
own Whoosh analyzer stores, and what breaks phrase queries). Every
default-mode ("base") word, Latin tokens included, takes the next position
0, 1, 2, ...; jieba's search-mode sub-words of a base word (its 2-grams and
3-grams that are dictionary words) take the SAME position as the base word.
The base word is yielded first, then its sub-words by start offset, so start
offsets never decrease along the stream. Query mode (`mode='query'`, and
`query_words`) yields base words only: a phrase of consecutive base words then
matches the index, which sub-words would break.

`ANALYSIS_VERSION` is recorded in the index: bump it whenever tokens change.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import unicodedata
from functools import lru_cache
from collections import Counter
from itertools import chain
from operator import itemgetter

from whoosh.analysis import Token, Tokenizer

ANALYSIS_VERSION: int = 4  # 2: OpenCC t2s folding, user dictionaries; 3: every Han character a `chars` term;
# 4: the reader drops the furniture of newer layouts (credits, relative times, …), so indexed text changed

# Unicode Script=Han, as ranges (Python's re has no \p{Han}): radicals, 々, 〇,
# Hangzhou numerals, ideographs (BMP, Ext A, compatibility, planes 2 and 3).
_HAN = (
    "\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3038-\u303b"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
)
_HAN_CHAR = re.compile(f"[{_HAN}]")

# Group 1: a Han run. No group: a run of non-Han letters/digits. Nothing else matches.
RUN_RE = re.compile(f"([{_HAN}]+)|[^\\W_{_HAN}]+")
HAN_RUN_RE = re.compile(f"[{_HAN}]+")
LATIN_RE = re.compile(f"[^\\W_{_HAN}]+")  # the Latin rule: one token per match


def is_han(ch: str) -> bool:
    return _HAN_CHAR.fullmatch(ch) is not None


def split_runs(text: str) -> list[tuple[str, bool]]:
    """(run, is_han) for each Han run and other-word run of `text`, in order.

    Everything between runs (punctuation, spaces, `_`) is dropped. Give it
    normalised text for runs that match the indexed tokens; for offsets, use
    RUN_RE.finditer (group 1 is set for Han runs).
    """
    return [(m.group(), m.lastindex is not None) for m in RUN_RE.finditer(text)]


_TABLE_END = 0x2FA20  # past the last code point that folds (compatibility ideographs)


def _build_table() -> str:
    """The folding of every code point below _TABLE_END, as a str.translate table.

    A str, indexed by code point: every key is present (a missing key costs translate an
    exception per character, ~1.7x slower), and it is faster to translate with than a dict
    of the same (~1.1x on the pool) and cheaper to load. Code points past its end are left
    as they are (IndexError is a LookupError). ~45 ms to make: kept in the user cache."""
    chars = list(map(chr, range(_TABLE_END)))
    # the BMP, math alphanumerics, compatibility ideographs; lone surrogates stay as they are
    for cp in chain(range(0x10000), range(0x1D400, 0x1D800), range(0x2F800, _TABLE_END)):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chars[cp]
        out = unicodedata.normalize("NFKC", ch)
        if len(out) != 1:
            continue
        low = out.lower()
        chars[cp] = low if len(low) == 1 else out
    return "".join(chars)


def _sibling(name: str):
    """A module of this package; None where this file was loaded alone (see the tests), which
    then does without the user cache and jieba_words' table."""
    if not __package__:
        return None
    import importlib

    return importlib.import_module(f"{__package__}.{name}")


def _fold_table() -> str:
    user_cache = _sibling("user_cache")
    # Kept as UTF-8 followed by its digest (a damaged file is made again, never half used),
    # without the lone surrogates, which map to themselves: they would cost the codec its slow
    # error path 2,048 times.
    surrogates = "".join(map(chr, range(0xD800, 0xE000)))
    name = f"fold-1-{unicodedata.unidata_version}.txt"  # 1: the rules of _build_table
    def digest(body: bytes) -> bytes:
        return hashlib.blake2b(body, digest_size=16).hexdigest().encode()

    data = user_cache.load(name) if user_cache else None
    if data is not None:
        body, _, kept = data.rpartition(b"\n")
        if digest(body) == kept:
            text = body.decode("utf-8")
            table = text[:0xD800] + surrogates + text[0xD800:]
            if len(table) == _TABLE_END:
                return table
    table = _build_table()
    if user_cache:
        body = (table[:0xD800] + table[0xE000:]).encode("utf-8")
        user_cache.save(name, body + b"\n" + digest(body), "fold-")
    return table


_TABLE = _fold_table()


# OpenCC (import + t2s config: ~15 ms) is loaded on the first non-ASCII text.
_t2s = None
_t2s_chars: dict[int, str] | None = None
# Script=Han as code point ranges, for the character table (same set as _HAN).
_HAN_RANGES = (
    (0x2E80, 0x2FDF), (0x3005, 0x3005), (0x3007, 0x3007), (0x3021, 0x3029), (0x3038, 0x303B),
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF),
)


def _converter():
    global _t2s
    if _t2s is None:
        import opencc

        _t2s = opencc.OpenCC("t2s")
    return _t2s


def opencc_version() -> str:
    import opencc

    return str(getattr(opencc, "__version__", ""))


def _char_table() -> dict[int, str]:
    """OpenCC's t2s of each Han character on its own, as a translate table (~0.1 s, once).

    Used only for a text whose phrase-wise conversion would not keep its length, or
    that OpenCC cannot take (lone surrogates). Every t2s mapping of OpenCC 1.4 is
    Han to Han and one character to one; any that is not is left out.
    """
    global _t2s_chars
    if _t2s_chars is None:
        conv = _converter()
        chars = [chr(cp) for lo, hi in _HAN_RANGES for cp in range(lo, hi + 1)
                 if unicodedata.category(chr(cp)) != "Cn"]
        out = conv.convert("\n".join(chars)).split("\n")
        if len(out) != len(chars):  # a line break mapped away: go one by one
            out = [conv.convert(ch) for ch in chars]
        _t2s_chars = {ord(ch): o for ch, o in zip(chars, out) if o != ch and len(o) == 1}
    return _t2s_chars


def normalize(text: str) -> str:
    """One character out per character in; see the module docstring."""
    if text.isascii():
        return text.lower()
    folded = text.translate(_TABLE)
    conv = _converter()
    try:
        out = conv.convert(folded)
        if out != folded:
            # A phrase can leave a character as it was (由於倫敦 -> 由於伦敦, for 於倫 is a
            # name). Converting again gives what the simplified text itself gives (由于伦敦),
            # and makes normalize idempotent (query words are normalised twice on their way
            # to highlights). Simplified text is left as it is by the first pass (0 of 10,051
            # pool fields changed by a second), so this costs only where there was script to fold.
            out = conv.convert(out)
    except UnicodeEncodeError:  # lone surrogates cannot cross into OpenCC
        return folded.translate(_char_table())
    if len(out) != len(folded):
        return folded.translate(_char_table())
    return out


# rjieba's dictionary is process-global and its import takes ~0.15 s: load it
# only when the first Han character shows up, and keep no jieba state anywhere else
# (the Whoosh tokenizers below are pickled into the index). A query is cut without it
# where jieba_words' table can stand in (_query_tokenize).
_rjieba = None
_words_table = None  # jieba_words' table: None not looked for yet, False none


def _jieba():
    global _rjieba
    if _rjieba is None:
        import rjieba

        _rjieba = rjieba
    return _rjieba


def load_dictionary() -> None:
    """Load rjieba's whole dictionary now: for a process that will answer many queries (serve's
    warm-up), so that no query pays its load (see _query_tokenize)."""
    _jieba()


def _full_tokenize(norm: str):
    return _jieba().tokenize


def _open_words_table():
    """jieba_words' table, or False. Where it is missing (an index built before it, a cache
    emptied since), this short run loads the dictionary anyway and makes it for the next."""
    jieba_words = _sibling("jieba_words")
    if jieba_words is None:
        return False
    try:
        table = jieba_words.open_table()
        if table is None:
            jieba_words.ensure_table(_jieba())
        return table or False
    except Exception:  # a cache is never worth a failed search
        return False


_TABLE_CUTS = 8  # then a process that keeps searching (serve, the API) loads the whole dictionary
_table_cuts = 0


def _query_tokenize(norm: str):
    """rjieba's tokenize for a query: a Jieba of the query's own dictionary words (jieba_words)
    for the first few queries of a process, where the table is there and rjieba's whole
    dictionary is not loaded already. A table cut costs ~0.3 ms, the whole dictionary's ~0.01 ms
    after its ~0.15 s load: a short run saves the load, a long one pays it once."""
    global _words_table, _table_cuts
    if (_rjieba is None and _table_cuts < _TABLE_CUTS and (_active is _UNSET or _active is None)
            and not _SURROGATE.search(norm)):
        if _words_table is None:
            _words_table = _open_words_table()
        if _words_table:
            jieba = _words_table.jieba_for(norm)
            if jieba is not None:
                _table_cuts += 1
                return jieba.tokenize
    return _jieba().tokenize


_BY_START = itemgetter(1, 2)
_FIRST = itemgetter(0)


# jieba's search mode is its default mode plus, after each word longer than 2
# characters, that word's 2-grams and (if longer than 3) 3-grams that are
# dictionary words. Computing them here, once per distinct word, is ~15% faster
# than decoding rjieba's search-mode stream back into base words and gives the
# same tokens on the whole pool. Call `_subwords.cache_clear()` after changing
# the dictionary (rjieba.add_word).
@lru_cache(maxsize=1 << 16)
def _subwords(word: str) -> tuple[tuple[str, int, int], ...]:
    if word in _WHOLE:  # a name from the user dictionary: 布林肯 is no 林肯
        return ()
    has_word = _jieba().has_word
    n = len(word)
    grams = [(word[i : i + k], i, i + k) for k in (2, 3) if n > k for i in range(n - k + 1)]
    return tuple(sorted((g for g in grams if has_word(g[0])), key=_BY_START))


# --- user dictionary --------------------------------------------------------------------

# Words the user dictionary brought in (not in jieba's own dictionary): indexed whole.
_WHOLE: set[str] = set()
_UNSET = object()
_active = _UNSET  # the UserDict this process segments with (None: jieba's own); set once
_dict_lock = threading.Lock()
_TAG_RE = re.compile(r"[A-Za-z]+")
_FREQ_RE = re.compile(r"[0-9]+")
_MAX_FREQ = 2**31 - 1

Entry = tuple[str, int | None, str | None]


class UserDict:
    """Words to add to jieba's dictionary: (word, frequency or None, tag or None), normalised.

    Equal dictionaries have equal `entries`; `source` (where it was read) is for messages.
    An empty UserDict is the same as none. (No dataclass: this module must load from its
    file alone, see the tests.)
    """

    __slots__ = ("entries", "source")

    def __init__(self, entries, source: str = ""):
        self.entries: tuple[Entry, ...] = tuple(entries)
        self.source = source

    def __eq__(self, other):
        return isinstance(other, UserDict) and other.entries == self.entries

    def __hash__(self):
        return hash(self.entries)

    def __repr__(self):
        return f"UserDict({self.entries!r}, source={self.source!r})"

    @property
    def digest(self) -> str:
        data = json.dumps(self.entries, ensure_ascii=False, separators=(",", ":")).encode()
        return hashlib.blake2b(data, digest_size=16).hexdigest()

    def describe(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"user dictionary ({where}{len(self.entries)} words, digest {self.digest[:12]})"

    def to_meta(self) -> dict | None:
        """What the index records; None for an empty dictionary."""
        if not self.entries:
            return None
        return {"digest": self.digest, "words": len(self.entries), "source": self.source,
                "entries": [list(e) for e in self.entries]}

    @classmethod
    def from_meta(cls, value) -> "UserDict | None":
        """The dictionary an index recorded (its words normalised again); None if it has none."""
        if value is None:
            return None
        rows = value.get("entries") if isinstance(value, dict) else None
        if not isinstance(rows, list) or not all(
            isinstance(r, list) and len(r) == 3 and isinstance(r[0], str) and r[0]
            and (r[1] is None or type(r[1]) is int) and (r[2] is None or isinstance(r[2], str))
            for r in rows
        ):
            raise ValueError("the recorded user dictionary is not a list of [word, frequency, tag]")
        return _collect(((normalize(w), f, t) for w, f, t in rows), str(value.get("source") or ""))


def describe_userdict(ud: "UserDict | None") -> str:
    return ud.describe() if ud is not None and ud.entries else "no user dictionary"


def _collect(entries, source: str) -> UserDict:
    # A word given twice (or in both scripts) takes its last frequency and tag, at its first place.
    out: dict[str, tuple] = {}
    for word, freq, tag in entries:
        out[word] = (freq, tag)
    return UserDict(tuple((w, f, t) for w, (f, t) in out.items()), source)


def _parse_line(line: str) -> tuple[Entry | None, str | None]:
    """(entry, None), or (None, what is wrong); (None, None) for a blank line or comment."""
    fields = line.split()
    if not fields or fields[0].startswith("#"):
        return None, None
    if len(fields) > 3:
        return None, f"expected `word [frequency] [tag]`, found {len(fields)} fields"
    word, freq, tag = normalize(fields[0]), None, None
    if len(fields) == 3:
        if not _FREQ_RE.fullmatch(fields[1]):
            return None, f"frequency {fields[1]!r} is not a whole number"
        if not _TAG_RE.fullmatch(fields[2]):
            return None, f"tag {fields[2]!r} is not a word of letters (like nr)"
        freq, tag = int(fields[1]), fields[2]
    elif len(fields) == 2:
        if _FREQ_RE.fullmatch(fields[1]):
            freq = int(fields[1])
        elif _TAG_RE.fullmatch(fields[1]):
            tag = fields[1]
        else:
            return None, f"{fields[1]!r} is neither a frequency (a whole number) nor a tag (letters, like nr)"
    if freq is not None and not 1 <= freq <= _MAX_FREQ:
        return None, f"frequency {freq} is out of range (1 to {_MAX_FREQ})"
    if not HAN_RUN_RE.search(word):
        return None, (f"{fields[0]!r} has no Chinese character (a user dictionary cannot change "
                      f"how Latin words and numbers are split)")
    return (word, freq, tag), None


def parse_userdict(text: str, source: str = "") -> UserDict:
    """A user dictionary in jieba's format: `word [frequency] [tag]` per line.

    Blank lines and lines starting with `#` are skipped; words are normalised like
    text (a traditional entry is its simplified word). Raises UserDictError naming
    `source` and the line of the first malformed entry.
    """
    from indexer.errors import UserDictError

    entries = []
    for n, line in enumerate(text.removeprefix("\ufeff").splitlines(), 1):
        entry, problem = _parse_line(line)
        if problem:
            raise UserDictError(f"{source}, line {n}: {problem}", path=source, line=n)
        if entry:
            entries.append(entry)
    return _collect(entries, source)


def read_userdict(path) -> UserDict:
    """Read and parse a user dictionary file (UTF-8); UserDictError says what is wrong where."""
    from indexer.errors import UserDictError

    source = str(path)
    try:
        data = open(path, "rb").read()
    except OSError as exc:
        raise UserDictError(f"cannot read user dictionary {source}: {(exc.strerror or str(exc)).lower()}",
                            path=source) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserDictError(f"{source}, line {line}: not UTF-8 text", path=source, line=line) from None
    return parse_userdict(text, source)


def use_userdict(ud: UserDict | None) -> None:
    """Make this process segment with `ud` (None or empty: jieba's own dictionary alone).

    jieba's dictionary is process-global and words cannot be taken out of it: the
    first call decides, later calls must ask for the same dictionary, or UserDictError
    is raised (two indexes built with different dictionaries in one process).
    """
    global _active
    want = ud if ud is not None and ud.entries else None
    with _dict_lock:
        have = _active
        if have is not _UNSET:
            if (have.entries if have else ()) == (want.entries if want else ()):
                return
            from indexer.errors import UserDictError

            raise UserDictError(
                f"this process already segments words with {describe_userdict(have)}, so it cannot "
                f"also use {describe_userdict(want)} (jieba's dictionary is one per process): "
                f"use the other index from another process"
            )
        if want is not None:
            jieba = _jieba()
            for word, freq, tag in want.entries:
                if not jieba.has_word(word):
                    _WHOLE.add(word)
                jieba.add_word(word, freq, tag)
            _subwords.cache_clear()
        _active = want


def active_userdict() -> UserDict | None:
    """The user dictionary this process segments with, if any."""
    return None if _active is _UNSET else _active


class _HanKinds(dict):
    """word -> True (all Han), None (no Han), or its Han pieces as (piece, start, end)."""

    def __missing__(self, word):
        pieces = tuple((m.group(), m.start(), m.end()) for m in HAN_RUN_RE.finditer(word))
        kind = (True if pieces[0][2] - pieces[0][1] == len(word) else pieces) if pieces else None
        if len(self) > 200_000:  # numbers and names keep coming: stay bounded
            self.clear()
        self[word] = kind
        return kind


_KINDS = _HanKinds()
_END = 1 << 62
_SURROGATE = re.compile("[\ud800-\udfff]")


def _scan(norm: str, search: bool, tokenizer=_full_tokenize):
    """Yield (term, pos, startchar, endchar) over normalised text.

    rjieba segments the WHOLE text, not Han runs alone: jieba runs its DAG and
    HMM over blocks of Han mixed with letters/digits, and cutting those blocks
    at the Latin changes its Chinese words (高达30 gives 高达, 高达 alone 高/达;
    20年来: 年来 vs 年/来), in ~7% of the pool's fields. Only its Han words are
    kept, plus the Han pieces of the few dictionary words that mix scripts
    (4s店 -> 店); Latin tokens come from LATIN_RE and are merged in by offset.
    Each base word comes first, then its sub-words (search mode only) at the
    same position ordered by offsets, so start offsets never decrease.
    """
    latin = LATIN_RE.finditer(norm)
    lm = next(latin, None)
    ls = lm.start() if lm else _END
    pos = 0
    if not norm.isascii() and HAN_RUN_RE.search(norm):
        tokenize = tokenizer(norm)
        try:
            words = tokenize(norm, "default", True)
        except UnicodeEncodeError:  # lone surrogates cannot cross into Rust
            words = tokenize(_SURROGATE.sub("\ufffd", norm), "default", True)
        kinds = _KINDS
        for w, s, e in words:
            kind = kinds[w]
            if kind is None:
                continue
            while ls < s:
                yield lm.group(), pos, ls, lm.end()
                pos += 1
                lm = next(latin, None)
                ls = lm.start() if lm else _END
            if kind is True:
                yield w, pos, s, e
                if search and e - s > 2:
                    for sub, i, j in _subwords(w):
                        yield sub, pos, s + i, s + j
                pos += 1
                continue
            for piece, ps, pe in kind:
                ps += s
                while ls < ps:
                    yield lm.group(), pos, ls, lm.end()
                    pos += 1
                    lm = next(latin, None)
                    ls = lm.start() if lm else _END
                yield piece, pos, ps, s + pe
                if search and len(piece) > 2:
                    for sub, i, j in _subwords(piece):
                        yield sub, pos, ps + i, ps + j
                pos += 1
    while lm is not None:
        yield lm.group(), pos, lm.start(), lm.end()
        pos += 1
        lm = next(latin, None)


def tokens(text: str) -> list[tuple[str, int, int, int]]:
    """(term, pos, startchar, endchar) exactly as the word fields index `text`."""
    return list(_scan(normalize(text), True))


def query_words(text: str) -> list[str]:
    """Base (non-overlapping) normalised words of `text`, punctuation dropped."""
    return [w for w, _, _, _ in _scan(normalize(text), False, _query_tokenize)]


def _scan_bigrams(norm: str):
    # Every character of a Han run, and every adjacent pair: a single character
    # is then one term, and any longer run the AND of its bigrams, whatever
    # jieba made of the text around it. Positions only number the tokens: the
    # field keeps none.
    pos = 0
    for m in HAN_RUN_RE.finditer(norm):
        run = m.group()
        off = m.start()
        for i in range(len(run)):
            yield run[i], pos, off + i, off + i + 1
            pos += 1
            if i + 1 < len(run):
                yield run[i : i + 2], pos, off + i, off + i + 2
                pos += 1


def bigram_tokens(text: str) -> list[tuple[str, int, int, int]]:
    """(term, pos, startchar, endchar) exactly as the `chars` field indexes `text`."""
    return list(_scan_bigrams(normalize(text)))


# The indexer's fast path (indexer/segment.py): the same terms as the tokenizers
# below, counted without a Token object per term.


def word_counts(norm: str) -> Counter:
    """term -> frequency of the word-field terms of normalised text (as ZhTokenizer indexes it)."""
    return Counter(map(_FIRST, _scan(norm, True)))


def char_terms(norm: str) -> set[str]:
    """The `chars` field's terms of normalised text (as CharBigramTokenizer indexes it)."""
    out: set[str] = set()
    for run in HAN_RUN_RE.findall(norm):
        out.update(run)
        out.update(map(str.__add__, run[:-1], run[1:]))
    return out


class _Base(Tokenizer):
    """Whoosh's tokenizer protocol around a `_stream(value, mode)` of tuples.

    Holds no state, so it pickles and compares by class alone.
    """

    def __eq__(self, other):
        return type(other) is type(self)

    def __hash__(self):
        return hash(type(self).__name__)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True,
                 mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            # Whoosh asks for the whole value as one term (prefix, wildcard, ...).
            t.text = normalize(value)
            t.boost = 1.0
            if keeporiginal:
                t.original = value
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar = start_char
                t.endchar = start_char + len(value)
            yield t
            return
        for text, pos, s, e in self._stream(normalize(value), mode):
            t.text = text
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = value[s:e]
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar = start_char + s
                t.endchar = start_char + e
            yield t


class ZhTokenizer(_Base):
    """jieba search-mode words with token positions; base words only in query mode."""

    @staticmethod
    def _stream(norm, mode):
        return _scan(norm, mode != "query")


class CharBigramTokenizer(_Base):
    """Han characters and character bigrams; see `_scan_bigrams`."""

    @staticmethod
    def _stream(norm, mode):
        return _scan_bigrams(norm)


def word_analyzer() -> ZhTokenizer:
    return ZhTokenizer()


def bigram_analyzer() -> CharBigramTokenizer:
    return CharBigramTokenizer()
