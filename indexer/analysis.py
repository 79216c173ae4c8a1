"""Text analysis shared by indexing and querying: normalisation, jieba words, Han bigrams.

Normalisation (`normalize`) maps every character to exactly one character, so an
offset into the normalised text is the same offset into the original text:
each character becomes its NFKC form when that form is a single character
(full-width Ｇ７ -> g7, U+3000 and NBSP -> space, compatibility ideographs ->
unified ones), then its lowercase when that is a single character. A character
whose NFKC form is longer (…, Ⅲ, ﬁ) is left exactly as it is. No stemming.

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

import re
import unicodedata
from functools import lru_cache
from itertools import chain
from operator import itemgetter

from whoosh.analysis import Token, Tokenizer

ANALYSIS_VERSION: int = 1

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


def _build_table() -> dict[int, str]:
    # Every BMP code point is present (mapped to itself if unchanged): a missing
    # key costs str.translate an exception per character (~1.7x slower).
    # Built at import, ~20 ms.
    table = {}
    extra = chain(range(0x1D400, 0x1D800), range(0x2F800, 0x2FA20))  # math alphanumerics, compat ideographs
    for cp in chain(range(0x10000), extra):
        ch = chr(cp)
        out = unicodedata.normalize("NFKC", ch) if not 0xD800 <= cp <= 0xDFFF else ch
        if len(out) != 1:
            out = ch
        else:
            low = out.lower()
            if len(low) == 1:
                out = low
        if cp < 0x10000 or out != ch:
            table[cp] = out
    return table


_TABLE = _build_table()


def normalize(text: str) -> str:
    """One character out per character in; see the module docstring."""
    if text.isascii():
        return text.lower()
    return text.translate(_TABLE)


# rjieba's dictionary is process-global and its import takes ~0.13 s: load it
# only when the first Han character shows up, and keep no jieba state anywhere else
# (the Whoosh tokenizers below are pickled into the index).
_rjieba = None


def _jieba():
    global _rjieba
    if _rjieba is None:
        import rjieba

        _rjieba = rjieba
    return _rjieba


_BY_START = itemgetter(1, 2)


# jieba's search mode is its default mode plus, after each word longer than 2
# characters, that word's 2-grams and (if longer than 3) 3-grams that are
# dictionary words. Computing them here, once per distinct word, is ~15% faster
# than decoding rjieba's search-mode stream back into base words and gives the
# same tokens on the whole pool. Call `_subwords.cache_clear()` after changing
# the dictionary (rjieba.add_word).
@lru_cache(maxsize=1 << 16)
def _subwords(word: str) -> tuple[tuple[str, int, int], ...]:
    has_word = _jieba().has_word
    n = len(word)
    grams = [(word[i : i + k], i, i + k) for k in (2, 3) if n > k for i in range(n - k + 1)]
    return tuple(sorted((g for g in grams if has_word(g[0])), key=_BY_START))


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


def _scan(norm: str, search: bool):
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
        tokenize = _jieba().tokenize
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
    return [w for w, _, _, _ in _scan(normalize(text), False)]


def _scan_bigrams(norm: str):
    # Every adjacent pair of a Han run, plus the run's last character alone:
    # then any single character is found by a prefix query on this field (it
    # starts some bigram, or is a last character), and any longer run by the
    # AND of its bigrams, whatever jieba made of the text around it.
    pos = 0
    for m in HAN_RUN_RE.finditer(norm):
        run = m.group()
        off = m.start()
        for i in range(len(run) - 1):
            yield run[i : i + 2], pos, off + i, off + i + 2
            pos += 1
        yield run[-1], pos, m.end() - 1, m.end()
        pos += 1


def bigram_tokens(text: str) -> list[tuple[str, int, int, int]]:
    """(term, pos, startchar, endchar) exactly as the `chars` field indexes `text`."""
    return list(_scan_bigrams(normalize(text)))


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
    """Han character bigrams plus each run's last character; see `_scan_bigrams`."""

    @staticmethod
    def _stream(norm, mode):
        return _scan_bigrams(norm)


def word_analyzer() -> ZhTokenizer:
    return ZhTokenizer()


def bigram_analyzer() -> CharBigramTokenizer:
    return CharBigramTokenizer()
