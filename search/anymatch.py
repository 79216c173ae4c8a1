"""`--any`: a query whose top-level AND is relaxed to "at least a fraction of its parts".

A query's top level is a conjunction of parts. With `match="any"` a document
needs only ceil(min_match × parts) of them (at least one), and is ranked by
BM25F over all of them (search/ranking.py's `rank`), so documents matching more
and rarer parts come first. Everything below the top level keeps its meaning:
an OR group, a quoted phrase, a `field:` term is one part; a NOT still excludes.

A bare word run typed without spaces means "literally, or all of its jieba
words" in the default mode: an AND in disguise. Here each of its words is a part
of its own, so a pasted paragraph (one long run per clause) is relaxed word by
word. Repeated parts count once (a paragraph repeats its words).

Each part is matched with ranking.py's `evaluate` over the whole allowed set and
the matches are counted per document in one numpy array.
"""

from __future__ import annotations

import math

import numpy as np

from indexer import analysis

from . import query as ql
from .postings import Postings
from .ranking import Leaf, Raw, Texts, evaluate

# The fraction of parts a hit must match by default: Elasticsearch's more_like_this default
# (30%); bench/similar.py measured --any over a title and lead with it (README, "Similar stories").
DEFAULT_MIN_MATCH = 0.3
# --any is meant for pasted paragraphs; the cost grows with the distinct words (each one a
# posting list read and a mask counted), so the cap is ten times the default mode's, not
# unbounded. Longer texts: `zhsearch similar -`, which keeps a bounded number of words.
MAX_ANY_QUERY_CHARS = 10_000


def relax(tree: ql.Node) -> ql.Node:
    """The query with its top-level parts made explicit: an And of parts and Nots
    (a single part stays itself)."""
    nodes = tree.nodes if isinstance(tree, ql.And) else (tree,)
    parts: list[ql.Node] = []
    for node in nodes:
        for part in _split(node):
            if part not in parts:
                parts.append(part)
    return parts[0] if len(parts) == 1 else ql.And(tuple(parts))


def _split(node: ql.Node) -> list[ql.Node]:
    if isinstance(node, ql.Term):
        words = analysis.query_words(node.text)
        if len(words) > 1:
            return [ql.Term(w, node.field, node.pos) for w in words]
    return [node]


def needed(min_match: float, parts: int) -> int:
    """How many of `parts` a document must match: ceil(min_match × parts), at least one."""
    if not 0.0 <= min_match <= 1.0:
        raise ValueError(f"min_match must be between 0 and 1, not {min_match!r}")
    return max(1, math.ceil(round(min_match * parts, 9)))


def match_any(texts: Texts, raw: Raw, postings: Postings, tree: ql.Node, leaves: dict[int, Leaf],
              universe: np.ndarray, min_match: float) -> np.ndarray:
    """Boolean by docnum: the documents of `universe` matching enough of the (relaxed) tree's parts
    and none of its negated ones."""
    nodes = tree.nodes if isinstance(tree, ql.And) else (tree,)
    parts = [n for n in nodes if not isinstance(n, ql.Not)]
    count = np.zeros(postings.size, dtype=np.int32)
    for part in parts:
        count += evaluate(texts, raw, postings, part, leaves, universe)
    docs = count >= needed(min_match, len(parts))
    for node in nodes:
        if isinstance(node, ql.Not) and docs.any():
            docs &= ~evaluate(texts, raw, postings, node.node, leaves, docs)
    return docs
