"""Evaluating a parsed query: which documents match, and in what order.

Matching is set algebra over document numbers, so the boolean language means
exactly what it says and `total` is exact. Each leaf (a word run or a quoted
phrase) matches in one of two ways:

- by words: the document holds every jieba word of the run (in the leaf's
  fields); search-mode indexing means a long indexed word also holds its
  sub-words;
- literally: the run's character bigrams (the `chars` field) narrow the
  candidates, and the stored text confirms the literal occurrence. A bare run
  matches either way; a quoted phrase only literally.

Ranking is BM25F over the word fields (postings.py: field frequencies weighted
and length-normalised, then saturated once), computed for the matched set,
plus a bonus for literal occurrences in the title and in the text of the best
candidates, then recency as the tie-breaker.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

from indexer import analysis
from indexer.schema import TEXT_FIELDS

from . import query as ql

Texts = Callable[[int], dict]  # docnum -> normalised {"title", "lead", "body"} (schema.texts)
from .postings import Postings, bm25f
from .snippets import literal_in

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

    @property
    def literal_only(self) -> bool:
        return isinstance(self.node, ql.Phrase)


def prepare(node: ql.Node) -> dict[int, Leaf]:
    """Analyse every leaf of the tree once, keyed by id(node)."""
    leaves: dict[int, Leaf] = {}

    def walk(n):
        if isinstance(n, (ql.Term, ql.Phrase)):
            fields = (n.field,) if n.field else TEXT_FIELDS
            needle = " ".join(analysis.normalize(n.text).split())
            leaves[id(n)] = Leaf(n, needle, analysis.query_words(n.text), fields)
        elif isinstance(n, ql.Not):
            walk(n.node)
        else:
            for child in n.nodes:
                walk(child)

    walk(node)
    return leaves


def _any_field(postings: Postings, word: str, fields: tuple[str, ...]) -> set[int]:
    return set().union(*(postings.get(f, word).keys() for f in fields))


def _all_words(postings: Postings, words: list[str], fields: tuple[str, ...]) -> set[int]:
    out: set[int] | None = None
    for w in words:
        docs = _any_field(postings, w, fields)
        out = docs if out is None else out & docs
        if not out:
            return set()
    return out or set()


def _literal_candidates(postings: Postings, needle: str) -> set[int] | None:
    """Documents that may contain `needle` literally: its bigrams, its Latin words."""
    out: set[int] | None = None
    for run, is_han in analysis.split_runs(needle):
        if not is_han:
            parts = [_all_words(postings, analysis.query_words(run), TEXT_FIELDS)]
        elif len(run) == 1:
            parts = [postings.docs("chars", run)]  # every Han character is a term of its own
        else:
            parts = [postings.docs("chars", run[i:i + 2]) for i in range(len(run) - 1)]
        for docs in parts:
            out = docs if out is None else out & docs
            if not out:
                return set()
    return out


def _is_han_run(needle: str) -> bool:
    runs = analysis.split_runs(needle)
    return len(runs) == 1 and runs[0][1] and runs[0][0] == needle


def _needs_check(leaf: Leaf) -> bool:
    """A bigram hit proves the literal run only for one Han run of 1-2 characters in any field."""
    return not (_is_han_run(leaf.needle) and len(leaf.needle) <= 2 and leaf.fields == TEXT_FIELDS)


def contains_literal(texts: dict[str, str], leaf: Leaf) -> bool:
    return any(literal_in(texts[f], leaf.needle) for f in leaf.fields)


def match_leaf(texts: Texts, postings: Postings, leaf: Leaf) -> set[int]:
    word_docs: set[int] = set()
    if not leaf.literal_only and leaf.words:
        word_docs = _all_words(postings, leaf.words, leaf.fields)
    literal_docs: set[int] = set()
    candidates = _literal_candidates(postings, leaf.needle)
    if candidates:
        candidates -= word_docs
        if candidates and _needs_check(leaf):
            candidates = {d for d in candidates if contains_literal(texts(d), leaf)}
        literal_docs = candidates
    return word_docs | literal_docs


def evaluate(texts: Texts, postings: Postings, node: ql.Node, leaves: dict[int, Leaf], universe: set[int]) -> set[int]:
    if isinstance(node, (ql.Term, ql.Phrase)):
        return match_leaf(texts, postings, leaves[id(node)]) & universe
    if isinstance(node, ql.Not):
        return universe - evaluate(texts, postings, node.node, leaves, universe)
    if isinstance(node, ql.Or):
        out: set[int] = set()
        for child in node.nodes:
            out |= evaluate(texts, postings, child, leaves, universe)
        return out
    # And: positive children first, then subtract the negated ones (no complement needed).
    positives = [c for c in node.nodes if not isinstance(c, ql.Not)]
    negatives = [c.node for c in node.nodes if isinstance(c, ql.Not)]
    out = universe if not positives else None
    for child in positives:
        docs = evaluate(texts, postings, child, leaves, universe)
        out = docs if out is None else out & docs
        if not out:
            break
    for child in negatives:
        if out:
            out = out - evaluate(texts, postings, child, leaves, universe)
    return out or set()


def positive_leaves(node: ql.Node, leaves: dict[int, Leaf]) -> list[Leaf]:
    return [leaves[id(n)] for n in ql.positive_leaves(node)]


def rank(texts: Texts, postings: Postings, docs: set[int], positive: list[Leaf]) -> dict[int, float]:
    """Score of every matched document: BM25F over the word fields, plus literal bonuses at the top."""
    words = list(dict.fromkeys((w, leaf.fields) for leaf in positive for w in leaf.words))
    score = dict.fromkeys(docs, 0.0)
    score.update(bm25f(postings, words, docs, FIELD_BOOSTS, BM25_B, BM25_K1))
    needles = [leaf.needle for leaf in positive if leaf.needle]
    for docnum in heapq.nlargest(RERANK_DEPTH, score, key=score.__getitem__):
        score[docnum] += literal_bonus(texts(docnum), needles)
    return score


def add_recency(score: dict[int, float], date) -> None:
    """`date`: docnum -> its schema.published_keys value (Whoosh's microsecond count, -1 when undated)."""
    if not RECENCY_WEIGHT or not score:
        return
    newest = max(map(date, score))
    for d in score:
        if (raw := date(d)) >= 0:
            age_days = (newest - raw) / 86_400e6
            score[d] += RECENCY_WEIGHT * 0.5 ** (age_days / RECENCY_HALF_LIFE)


def literal_bonus(texts: dict[str, str], needles: list[str]) -> float:
    title, text = texts["title"], texts["lead"] + "\n" + texts["body"]
    bonus = 0.0
    for needle in needles:
        if literal_in(title, needle):
            bonus += TITLE_LITERAL_BONUS
        elif literal_in(text, needle):
            bonus += TEXT_LITERAL_BONUS
    return bonus
