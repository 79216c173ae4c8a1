"""Evaluating a parsed query: which documents match, and in what order.

Matching is set algebra over document numbers (boolean numpy masks indexed by
docnum), so the boolean language means exactly what it says and `total` is
exact; an And evaluates each child only within what the previous ones left,
so later leaves check fewer literal candidates. Each leaf (a word run or a quoted
phrase) matches in one of two ways:

- by words: the document holds every jieba word of the run (in the leaf's
  fields); search-mode indexing means a long indexed word also holds its
  sub-words;
- literally: the run's character bigrams (the character index) narrow the
  candidates, and the stored text confirms the literal occurrence. A bare run
  matches either way; a quoted phrase only literally.

Name variants (variants.py): a variant in a bare run (特朗普 in 特朗普政府) expands to its
group. The leaf then also matches where the run's other words are there as words and, for
each variant, the variant as typed (as any bare run) or one of its group's other variants
literally (as a quoted phrase would: 马克宏 never as 马克 and 宏 apart). The group scores as
one BM25F term whose field frequencies are its variants' summed (as Lucene's SynonymQuery
does), so a hit ranks as if the typed form were there.

Ranking is BM25F over the word fields (postings.py: field frequencies weighted
and length-normalised, then saturated once), computed for the matched set,
plus a bonus for literal occurrences in the title and in the text of the best
candidates, then recency as the tie-breaker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from indexer import analysis
from indexer.schema import TEXT_FIELDS, encode_text

from . import query as ql
from .postings import Postings, bm25f, idf
from .snippets import count_literal, literal_in
from .textstore import TextStore
from .variants import VariantGroups

Texts = Callable[[int], dict]  # docnum -> normalised {"title", "lead", "body"} (schema.texts)
Raw = TextStore  # the same, encoded (the `text` column, schema.encode_text): by docnum, and searched many at once

# Chosen on bench/relevance.py --tune (tuning half; README, "Relevance").
FIELD_BOOSTS = {"title": 8.0, "lead": 1.5, "body": 1.0}
BM25_B = 0.75
BM25_K1 = 1.2
TITLE_LITERAL_BONUS = 2.0
TEXT_LITERAL_BONUS = 1.0
# Score added for the newest article, halving every RECENCY_HALF_LIFE days before the
# index's newest; 0 keeps recency a tie-breaker only (what the benchmark chose).
RECENCY_WEIGHT = 0.0
RECENCY_HALF_LIFE = 7.0
RERANK_DEPTH = 40  # literal bonuses are computed for this many top BM25 candidates


@dataclass
class Leaf:
    """One positive or negative word run or phrase, prepared for matching."""

    node: ql.Term | ql.Phrase
    needle: str  # the normalised literal form, as snippets match it
    words: list[str]  # default-mode jieba words + Latin tokens
    fields: tuple[str, ...]
    expansions: list["Expansion"] = field(default_factory=list)  # the variants the run holds
    plain: list[str] = field(default_factory=list)  # with expansions: the words no variant spans

    @property
    def literal_only(self) -> bool:
        return isinstance(self.node, ql.Phrase)

    @property
    def needles(self) -> list[str]:
        """The literal forms: the needle, and the needle with each variant replaced by another."""
        out = [self.needle]
        for e in self.expansions:
            if e.typed.needle in self.needle:
                out += [self.needle.replace(e.typed.needle, o.needle, 1) for o in e.others]
        return out


@dataclass
class Expansion:
    """A variant in a bare run, as typed, and the other variants of its group."""

    typed: Leaf  # matched as any bare run: by words or literally
    others: list[Leaf]  # quoted phrases: literally only


def _expand(leaf: Leaf, variants: VariantGroups) -> None:
    spans = variants.find(leaf.words)
    inside = {k for i, j, _ in spans for k in range(i, j)}
    leaf.plain = [w for k, w in enumerate(leaf.words) if k not in inside]
    for i, j, group in spans:
        typed = "".join(leaf.words[i:j])
        node = leaf.node
        leaf.expansions.append(Expansion(
            Leaf(ql.Term(typed, node.field, node.pos), typed, leaf.words[i:j], leaf.fields),
            [Leaf(ql.Phrase(v, node.field, node.pos), v, [], leaf.fields) for v in group if v != typed],
        ))


def prepare(node: ql.Node, variants: VariantGroups | None = None) -> dict[int, Leaf]:
    """Analyse every leaf of the tree once, keyed by id(node); with `variants`, expand the
    variants of bare runs (quoted phrases never expand)."""
    leaves: dict[int, Leaf] = {}

    def walk(n):
        if isinstance(n, (ql.Term, ql.Phrase)):
            fields = (n.field,) if n.field else TEXT_FIELDS
            needle = " ".join(analysis.normalize(n.text).split())
            leaf = leaves[id(n)] = Leaf(n, needle, analysis.query_words(n.text), fields)
            if variants is not None and isinstance(n, ql.Term):
                _expand(leaf, variants)
        elif isinstance(n, ql.Not):
            walk(n.node)
        else:
            for child in n.nodes:
                walk(child)

    walk(node)
    return leaves


def _intersect(masks) -> np.ndarray | None:
    """The intersection of `masks` (None: there are none). Given a generator, no further mask
    (posting list) is read once the intersection is empty."""
    out = None
    for m in masks:
        if out is None:
            out = m
        else:
            out &= m
        if not out.any():
            break
    return out


def _all_words(postings: Postings, words: list[str], fields: tuple[str, ...]) -> np.ndarray:
    out = _intersect(postings.mask_any(fields, w) for w in words)
    return np.zeros(postings.size, dtype=bool) if out is None else out


def _literal_parts(postings: Postings, needle: str):
    """Masks that a literal occurrence of `needle` implies: its bigrams, its Latin words."""
    for run, is_han in analysis.split_runs(needle):
        if not is_han:
            yield _all_words(postings, analysis.query_words(run), TEXT_FIELDS)
        elif len(run) == 1:
            yield postings.chars_mask(run)  # every Han character is a term of its own
        else:
            yield from (postings.chars_mask(run[i:i + 2]) for i in range(len(run) - 1))


def _literal_candidates(postings: Postings, needle: str) -> np.ndarray | None:
    """Documents that may contain `needle` literally (None: the needle has no runs)."""
    return _intersect(_literal_parts(postings, needle))


def _is_han_run(needle: str) -> bool:
    runs = analysis.split_runs(needle)
    return len(runs) == 1 and runs[0][1] and runs[0][0] == needle


def _needs_check(leaf: Leaf) -> bool:
    """A bigram hit proves the literal run only for one Han run of 1-2 characters in any field."""
    return not (_is_han_run(leaf.needle) and len(leaf.needle) <= 2 and leaf.fields == TEXT_FIELDS)


def contains_literal(texts: dict[str, str], leaf: Leaf) -> bool:
    return any(literal_in(texts[f], leaf.needle) for f in leaf.fields)


def _literal_holding(texts: Texts, raw: Raw, leaf: Leaf, docs: np.ndarray) -> np.ndarray:
    """Boolean per document of `docs`: whether it holds the leaf's needle literally."""
    if _is_han_run(leaf.needle) and leaf.fields == TEXT_FIELDS:
        # A Han run matches as plain text (no spacing rules apply inside it): search the
        # stored bytes as they are. They hold no NUL, so no match spans two fields.
        return raw.holding(docs, encode_text([leaf.needle]))
    return np.fromiter((contains_literal(texts(d), leaf) for d in docs.tolist()), bool, len(docs))


def match_leaf(texts: Texts, raw: Raw, postings: Postings, leaf: Leaf, universe: np.ndarray) -> np.ndarray:
    """The documents of `universe` that the leaf matches."""
    docs = _match_run(texts, raw, postings, leaf, universe)
    if leaf.expansions:
        docs |= _match_expanded(texts, raw, postings, leaf, universe & ~docs)
    return docs


def _match_expanded(texts: Texts, raw: Raw, postings: Postings, leaf: Leaf, universe: np.ndarray) -> np.ndarray:
    """The documents of `universe` holding the run's other words as words, and for each of its
    variants the variant as typed or another of its group."""
    out = universe & _all_words(postings, leaf.plain, leaf.fields) if leaf.plain else universe.copy()
    for e in leaf.expansions:
        if not out.any():
            break
        out &= match_variant(texts, raw, postings, e, out)
    return out


def match_variant(texts: Texts, raw: Raw, postings: Postings, e: Expansion, universe: np.ndarray) -> np.ndarray:
    """The documents of `universe` holding the variant as typed or another of its group."""
    docs = match_leaf(texts, raw, postings, e.typed, universe)
    for other in e.others:
        docs |= match_leaf(texts, raw, postings, other, universe & ~docs)
    return docs


def _match_run(texts: Texts, raw: Raw, postings: Postings, leaf: Leaf, universe: np.ndarray) -> np.ndarray:
    if not leaf.literal_only and leaf.words:
        word_docs = _all_words(postings, leaf.words, leaf.fields) & universe
    else:
        word_docs = np.zeros(postings.size, dtype=bool)
    candidates = _literal_candidates(postings, leaf.needle)
    if candidates is not None:
        candidates &= universe
        candidates &= ~word_docs
        if _needs_check(leaf):
            check = np.flatnonzero(candidates)
            candidates[check[~_literal_holding(texts, raw, leaf, check)]] = False
        word_docs |= candidates
    return word_docs


def evaluate(texts: Texts, raw: Raw, postings: Postings, node: ql.Node, leaves: dict[int, Leaf],
             universe: np.ndarray) -> np.ndarray:
    """Boolean by docnum: the documents of `universe` that match `node`."""
    if isinstance(node, (ql.Term, ql.Phrase)):
        return match_leaf(texts, raw, postings, leaves[id(node)], universe)
    if isinstance(node, ql.Not):
        return universe & ~evaluate(texts, raw, postings, node.node, leaves, universe)
    if isinstance(node, ql.Or):
        out = np.zeros(postings.size, dtype=bool)
        for child in node.nodes:
            out |= evaluate(texts, raw, postings, child, leaves, universe)
        return out
    # And: positive children first, each within what the previous ones left; then subtract
    # the negated ones (no complement needed).
    positives = [c for c in node.nodes if not isinstance(c, ql.Not)]
    negatives = [c.node for c in node.nodes if isinstance(c, ql.Not)]
    out = universe.copy()
    for child in positives:
        out &= evaluate(texts, raw, postings, child, leaves, out)
        if not out.any():
            return out
    for child in negatives:
        if not out.any():
            break
        out &= ~evaluate(texts, raw, postings, child, leaves, out)
    return out


def positive_leaves(node: ql.Node, leaves: dict[int, Leaf]) -> list[Leaf]:
    return [leaves[id(n)] for n in ql.positive_leaves(node)]


def rank(texts: Texts, raw: Raw, postings: Postings, docs: np.ndarray, positive: list[Leaf]) -> np.ndarray:
    """Scores by docnum (0 outside `docs`): BM25F over the word fields, plus literal bonuses at the top."""
    words = list(dict.fromkeys((w, leaf.fields) for leaf in positive
                               for w in (leaf.plain if leaf.expansions else leaf.words)))
    score = bm25f(postings, words, docs, FIELD_BOOSTS, BM25_B, BM25_K1)
    for e in (e for leaf in positive for e in leaf.expansions):
        score += _group_bm25f(texts, raw, postings, e, docs)
    needles = [leaf.needles for leaf in positive if leaf.needle]
    if needles:
        for docnum in best(np.flatnonzero(docs), score, RERANK_DEPTH):
            score[docnum] += literal_bonus(texts(docnum), needles)
    return score


def best(ids: np.ndarray, score: np.ndarray, n: int) -> list[int]:
    """The n of `ids` with the highest scores, the lower docnum first among equals."""
    return first_by_keys([ids, -score[ids]], n)


def first_by_keys(keys: list[np.ndarray], n: int) -> list[int]:
    """The first n of keys[0] in ascending np.lexsort order of `keys` (primary key last),
    without sorting them all."""
    if n < len(keys[0]):
        # every one that can be among the first n ties with or beats the n-th primary key
        primary = keys[-1]
        within = primary <= nth_smallest(primary, n - 1)
        keys = [k[within] for k in keys]
    return keys[0][np.lexsort(keys)][:n].tolist()


SAMPLE = 8192  # values of a long array sampled to bound its n-th smallest


def nth_smallest(values: np.ndarray, n: int):
    """np.partition(values, n)[n], without partitioning them all: np.partition costs ~14 ns a
    value (3.6 ms for the 250,000 matches of 中国 at x100, twice a query), a comparison ~0.5 ns.
    The same quantile of a strided sample, doubled, bounds it from above; the values within the
    bound (a few times n) are partitioned, or all of them where the bound keeps too few."""
    step = len(values) // SAMPLE
    if step < 4:
        return np.partition(values, n)[n]
    sample = values[::step]
    r = min(len(sample) - 1, 2 * n * len(sample) // len(values) + 16)
    kept = values[values <= np.partition(sample, r)[r]]
    return np.partition(kept if len(kept) > n else values, n)[n]


def add_recency(score: np.ndarray, docs: np.ndarray, date: np.ndarray) -> None:
    """`date`: by docnum, the schema.published_keys value (Whoosh's microsecond count, -1 when undated)."""
    if not RECENCY_WEIGHT or not docs.any():
        return
    dated = docs & (date >= 0)
    if not dated.any():
        return
    age_days = (date[dated].max() - date[dated]) / 86_400e6
    score[dated] += RECENCY_WEIGHT * 0.5 ** (age_days / RECENCY_HALF_LIFE)


def literal_bonus(texts: dict[str, str], needles: list[list[str]]) -> float:
    """The bonus for each leaf's literal forms (any one of them) in the title, else in the text."""
    title, text = texts["title"], texts["lead"] + "\n" + texts["body"]
    bonus = 0.0
    for forms in needles:
        if any(literal_in(title, n) for n in forms):
            bonus += TITLE_LITERAL_BONUS
        elif any(literal_in(text, n) for n in forms):
            bonus += TEXT_LITERAL_BONUS
    return bonus


def _group_bm25f(texts: Texts, raw: Raw, postings: Postings, e: Expansion, docs: np.ndarray) -> np.ndarray:
    """A variant group's BM25F term by docnum (0 outside `docs`): in each field, the typed
    variant's frequency (its words' least, from the postings) plus the other variants'
    literal occurrences (counted in the texts of the documents that may hold them)."""
    fields, size = e.typed.fields, postings.size
    tf = {f: _least_tf(postings, f, e.typed.words) for f in fields}
    # the group's document frequency: documents with the typed words or that may hold another
    held = _all_words(postings, e.typed.words, fields) if e.typed.words else np.zeros(size, dtype=bool)
    for o in e.others:
        candidates = _literal_candidates(postings, o.needle)
        if candidates is None:
            continue
        held |= candidates
        check = np.flatnonzero(candidates & docs)
        if _is_han_run(o.needle):  # no spacing rules: count the stored bytes as they are
            counts = raw.field_counts(check, o.needle)
            for f in fields:
                tf[f][check] += counts[:, TEXT_FIELDS.index(f)]
            continue
        for d in check.tolist():
            text = texts(d)
            for f in fields:
                tf[f][d] += count_literal(text[f], o.needle)
    ids = np.flatnonzero(docs)  # weighted and saturated for the matches only, not every document
    weighted = sum(tf[f][ids] * postings.field_factors(f, FIELD_BOOSTS.get(f, 1.0), BM25_B)[ids] for f in fields)
    out = np.zeros(size)
    out[ids] = idf(max(size, 1), int(np.count_nonzero(held))) * weighted / (BM25_K1 + weighted)
    return out


def _least_tf(postings: Postings, fieldname: str, words: list[str]) -> np.ndarray:
    """By docnum, the least frequency in the field of any of `words` (how often they all occur)."""
    out = None
    for w in words:
        p = postings.get(fieldname, w)
        dense = np.zeros(postings.size)
        dense[p.ids] = p.tf
        out = dense if out is None else np.minimum(out, dense)
    return np.zeros(postings.size) if out is None else out
