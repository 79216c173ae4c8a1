"""The Whoosh schema, and how an Article becomes a Whoosh document.

Word fields (title, lead, body) carry jieba's search-mode words with their
frequencies: they drive ranking. The character index beside each segment
(codec/chars.py, not a Whoosh field since schema 5) holds the Han characters
and character bigrams of the same text, presence only: it guarantees that any
literal Chinese run is found, whatever jieba made of it (see analysis.py).

No field keeps token positions: quoted phrases are confirmed on the text
(search/ranking.py), so positions would only cost build time and space.
"""

from __future__ import annotations

import hashlib

import numpy as np
from functools import lru_cache
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, STORED, TEXT, Schema

from . import analysis
from .codec.chars import term_key
from .codec.w3 import field_terms
from .segment import CHARS

if TYPE_CHECKING:
    from .reader import Article

# Bump when fields or their options change; analysis.ANALYSIS_VERSION covers tokens.
# 3: no positions; `chars` presence-only, unscored; the `text` column; 4: blocks of 1,024 as arrays, a
# `url` column; 5: the character index out of Whoosh (codec/chars.py), segments merged by merge.py,
# `added` and `changed` columns
SCHEMA_VERSION = 5

TEXT_FIELDS = ("title", "lead", "body")


def build_schema() -> Schema:
    words = analysis.word_analyzer()
    return Schema(
        url=ID(stored=True, unique=True, sortable=True),  # a column too: results list copies' URLs
        path=STORED(),
        # Outlet codes are matched case-insensitively (--source rfi).
        source=KEYWORD(stored=True, lowercase=True, scorable=False),
        published=_column_only(DATETIME(stored=True, sortable=True)),
        title=TEXT(analyzer=words, stored=True, phrase=False),
        lead=TEXT(analyzer=words, phrase=False),
        body=TEXT(analyzer=words, phrase=False),
        # Equal for the same story saved under two URLs; results fold such copies into one hit.
        story=COLUMN(NumericColumn("q")),  # story_number: read for every match, as one array
        # The text is kept once: title, lead and body normalised (analysis.normalize) in the `text`
        # column, uncompressed UTF-16 joined by NULs (Han text is 2 bytes a character, not 3):
        # the literal check reads a candidate's text in microseconds and needs no normalising
        # (~190 us a body), where a stored field (one zlib pickle per document) costs ~45 us.
        # Normalising maps one character to one, so the article's own lead and body are the
        # normalised ones with `edits`, the characters normalising changed (`edits`, `originals`).
        text=COLUMN(VarBytesColumn()),
        edits=STORED(),
        # When the article's URL was first indexed and when a new version of it last was (epoch
        # microseconds, UTC; see arrivals.py): `--new` is the articles the last change wrote.
        added=COLUMN(NumericColumn("q")),
        changed=COLUMN(NumericColumn("q")),
    )


def _column_only(field):
    # Read only as columns (date filters and order, story folding), never as terms: indexing
    # them cost a term table row per value (and Whoosh's DATETIME several), 1 MB on the pool.
    field.indexed = False
    return field


def to_document(article: Article) -> dict:
    """The fields of indexer/segment.py's add_document(), every indexed one analysed in `_terms`.

    The analysis is all here, so that a worker process can do it (indexer/parallel.py).
    `_terms["chars"]` holds the character index's keys (codec/chars.term_key) of the Han
    characters and bigrams of the three text fields (`chars_text` is a text that gives them).
    """
    norms = [analysis.normalize(t) for t in (article.title, article.lead, article.body)]
    terms = {f: dict(analysis.word_counts(n)) for f, n in zip(TEXT_FIELDS, norms)}
    terms[CHARS] = set(map(term_key, set().union(*map(analysis.char_terms, norms))))
    doc = {
        "url": article.url,
        "path": article.path,
        "source": article.source,
        "title": article.title,
        "story": story_number(story_key(article, norms[2])),
        "text": encode_text(norms),
        "edits": edits(article.lead + "\0" + article.body, norms[1] + "\0" + norms[2]),
    }
    if article.published is not None:
        # Whoosh's DATETIME wants naive datetimes: store UTC, re-attach it on read.
        doc["published"] = article.published.astimezone(timezone.utc).replace(tzinfo=None)
    schema = _schema()
    for name in ("url", "source"):
        if name in doc:
            terms[name] = field_terms(schema[name], doc[name])
    doc["_terms"] = terms
    return doc


def chars_text(article: Article) -> str:
    """A text whose analysis gives the `chars` terms (Han runs never cross the newlines)."""
    return "\n".join((article.title, article.lead, article.body))


@lru_cache(maxsize=1)
def _schema() -> Schema:
    return build_schema()


def story_key(article: Article, normalized_body: str | None = None) -> str:
    """A digest of the body's letters and digits (the title's, where there is no body).

    Re-posts under another URL differ in title edits and whitespace, not in the body.
    """
    if not article.body:
        normalized_body = analysis.normalize(article.title)
    elif normalized_body is None:
        normalized_body = analysis.normalize(article.body)
    text = "".join(filter(str.isalnum, normalized_body))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def story_number(key: str) -> int:
    """The `story` column's int64 of a story key (64 bits of its digest: no collision to fear)."""
    return int.from_bytes(bytes.fromhex(key)[:8], "big", signed=True) or 1  # 0 is the column's default


def published_keys(reader) -> np.ndarray:
    """By docnum, an int64 of the publication time (Whoosh's microseconds); -1 when undated (they
    sort last). Whoosh's column holds 2**64 - 1 for an undated document: as int64, -1."""
    return column_values(reader, "published").astype(np.int64)


TEXT_ENCODING = "utf-16-le"


def encode_text(norms: list[str]) -> bytes:
    """The `text` column's value of the normalised title, lead and body."""
    return "\0".join(norms).encode(TEXT_ENCODING, "surrogatepass")


def column_values(reader, name: str) -> np.ndarray:
    """By docnum, a numeric column's values. Whoosh's MultiReader leaves out the segments that
    have no file for the column (a segment of undated articles has no `published`), which shifts
    every later document's value; codec/w3.numbers gives such a segment's documents the default."""
    from .codec.w3 import numbers

    leaves = reader.leaf_readers() if reader.doc_count_all() else []  # an empty index has no segment
    return np.concatenate([numbers(seg, name) for seg, _ in leaves] or [np.empty(0, np.int64)])


def texts(column, docnum: int) -> dict[str, str]:
    """The normalised title, lead and body of a document, from (a column_reader of) `text`."""
    return dict(zip(TEXT_FIELDS, column[docnum].decode(TEXT_ENCODING, "surrogatepass").split("\0", 2)))


def holds(raw, needle: bytes, start: int = 0, end: int | None = None) -> bool:
    """Whether the `text` column value raw[start:end] contains `needle` (encode_text'ed) at a
    character boundary: in UTF-16 a match at an odd byte offset from the value's start straddles
    two characters. `raw`: the value, or a buffer that holds it there (a segment's memory map,
    searched in place)."""
    end = len(raw) if end is None else end
    at = raw.find(needle, start, end)
    while at >= 0:
        if not (at - start) & 1:
            return True
        at = raw.find(needle, at + 1, end)
    return False


def edits(original: str, normalised: str):
    """What `originals` needs to give `original` back from `normalised`: the positions where
    they differ and the original characters there (a simplified article: a few Latin capitals)."""
    if len(original) != len(normalised):  # normalising keeps lengths; keep the text if it did not
        return original
    a = np.frombuffer(original.encode("utf-32-le", "surrogatepass"), np.uint32)
    b = np.frombuffer(normalised.encode("utf-32-le", "surrogatepass"), np.uint32)
    where = np.flatnonzero(a != b)
    return (where.tolist(), "".join(original[i] for i in where.tolist()))


def originals(stored: dict, normalised: dict[str, str]) -> dict[str, str]:
    """The article's own title, lead and body, from its stored fields (the title, `edits`)
    and its normalised texts."""
    e = stored.get("edits")
    if isinstance(e, str):
        text = e
    else:
        chars = list(normalised["lead"] + "\0" + normalised["body"])
        for i, c in zip(*e) if e else ():
            chars[i] = c
        text = "".join(chars)
    lead, body = text.split("\0", 1)
    return {"title": stored.get("title", ""), "lead": lead, "body": body}


def document_texts(reader, docnum: int) -> dict[str, str]:
    """The article's own title, lead and body of a document of `reader` (a Whoosh reader)."""
    return originals(reader.stored_fields(docnum), texts(reader.column_reader("text"), docnum))


def key_to_datetime(value: int) -> datetime | None:
    from whoosh.util.times import long_to_datetime

    return None if value < 0 else long_to_datetime(value).replace(tzinfo=timezone.utc)


def stored_published(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=timezone.utc)
