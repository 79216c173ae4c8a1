"""The Whoosh schema, and how an Article becomes a Whoosh document.

Word fields (title, lead, body) carry jieba's search-mode words with their
frequencies: they drive ranking. `chars` carries the Han characters and
character bigrams of the same text, presence only: it guarantees that any
literal Chinese run is found, whatever jieba made of it (see analysis.py).

No field keeps token positions: quoted phrases are confirmed on the text
(search/ranking.py), so positions would only cost build time and space.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from datetime import datetime, timezone

from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.formats import Existence

from . import analysis
from .reader import Article
from .segment import field_terms

# Bump when fields or their options change; analysis.ANALYSIS_VERSION covers tokens.
SCHEMA_VERSION = 5  # 3: no positions; `chars` presence-only, unscored; the `text` column; 4: blocks of 1,024 as arrays, a `url` column; 5: `added`, `changed` columns

TEXT_FIELDS = ("title", "lead", "body")


def build_schema() -> Schema:
    words = analysis.word_analyzer()
    return Schema(
        url=ID(stored=True, unique=True, sortable=True),  # a column too: results list copies' URLs
        path=STORED(),
        # Outlet codes are matched case-insensitively (--source rfi).
        source=KEYWORD(stored=True, lowercase=True, scorable=False),
        published=DATETIME(stored=True, sortable=True),
        title=TEXT(analyzer=words, stored=True, phrase=False),
        lead=TEXT(analyzer=words, stored=True, phrase=False),
        body=TEXT(analyzer=words, stored=True, phrase=False),
        chars=_presence(TEXT(analyzer=analysis.bigram_analyzer(), phrase=False)),
        # Equal for the same story saved under two URLs; results fold such copies into one hit.
        story=ID(sortable=True),
        # title, lead and body again, normalised (analysis.normalize), as UTF-8 joined by NULs,
        # uncompressed: the literal check reads a candidate's text from this column in
        # microseconds and needs no normalising (~190 us a body), where the stored fields (one
        # pickle per document, zlib) cost ~45 us to read (see search/ranking.py).
        text=COLUMN(VarBytesColumn()),
        # When the article's URL was first indexed and when a new version of it last was (epoch
        # microseconds, UTC; see arrivals.py): `--new` is the articles the last change wrote.
        added=COLUMN(NumericColumn("q")),
        changed=COLUMN(NumericColumn("q")),
    )


def _presence(field: TEXT) -> TEXT:
    # Only ever used as document sets (search/ranking.py): no frequencies, no lengths.
    field.format = Existence()
    field.scorable = False
    return field


def to_document(article: Article) -> dict:
    """The fields of indexer/segment.py's add_document(), every indexed one analysed in `_terms`.

    The analysis is all here, so that a worker process can do it (indexer/parallel.py).
    `chars` has no value of its own (its terms are the union of the three text fields';
    `chars_text` is the text that gives them).
    """
    norms = [analysis.normalize(t) for t in (article.title, article.lead, article.body)]
    terms = {f: dict(analysis.word_counts(n)) for f, n in zip(TEXT_FIELDS, norms)}
    terms["chars"] = set().union(*map(analysis.char_terms, norms))
    doc = {
        "url": article.url,
        "path": article.path,
        "source": article.source,
        "title": article.title,
        "lead": article.lead,
        "body": article.body,
        "story": story_key(article, norms[2]),
        "text": "\0".join(norms).encode("utf-8", "surrogatepass"),
    }
    if article.published is not None:
        # Whoosh's DATETIME wants naive datetimes: store UTC, re-attach it on read.
        doc["published"] = article.published.astimezone(timezone.utc).replace(tzinfo=None)
    schema = _schema()
    for name in ("url", "source", "story", "published"):
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


_NO_DATE = 2**64 - 1  # what Whoosh's DATETIME column holds for a document without the field


def published_keys(reader) -> list[int]:
    """By docnum, a sortable int of the publication time; undated documents get -1 (they sort last).

    Whoosh's own datetime view of the column overflows on undated documents.
    """
    return [-1 if v == _NO_DATE else v for v in column_values(reader, "published", _NO_DATE)]


def column_values(reader, name: str, default) -> list:
    """By docnum, a column's raw values. Whoosh's MultiReader leaves out the segments that have
    no file for the column (a segment of undated articles has no `published`), which shifts
    every later document's value; such a segment's documents get `default` here."""
    out: list = []
    for segreader, _ in reader.leaf_readers():
        if segreader.has_column(name):
            out.extend(segreader.column_reader(name, translate=False))
        else:
            out.extend([default] * segreader.doc_count_all())
    return out


def texts(column, docnum: int) -> dict[str, str]:
    """The normalised title, lead and body of a document, from (a column_reader of) `text`."""
    return dict(zip(TEXT_FIELDS, column[docnum].decode("utf-8", "surrogatepass").split("\0", 2)))


def key_to_datetime(value: int) -> datetime | None:
    from whoosh.util.times import long_to_datetime

    return None if value < 0 else long_to_datetime(value).replace(tzinfo=timezone.utc)


def stored_published(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=timezone.utc)
