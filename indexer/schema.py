"""The Whoosh schema, and how an Article becomes a Whoosh document.

Word fields (title, lead, body) carry jieba's search-mode words with token
positions: they drive ranking. `chars` carries character bigrams of the same
text without positions: it guarantees that any literal Chinese run is found,
whatever jieba made of it (see analysis.py).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema

from . import analysis
from .reader import Article

# Bump when fields or their options change; analysis.ANALYSIS_VERSION covers tokens.
SCHEMA_VERSION = 2

TEXT_FIELDS = ("title", "lead", "body")


def build_schema() -> Schema:
    words = analysis.word_analyzer()
    return Schema(
        url=ID(stored=True, unique=True),
        path=STORED(),
        # Outlet codes are matched case-insensitively (--source rfi).
        source=KEYWORD(stored=True, lowercase=True, scorable=False),
        published=DATETIME(stored=True, sortable=True),
        title=TEXT(analyzer=words, stored=True, phrase=True),
        lead=TEXT(analyzer=words, stored=True, phrase=True),
        body=TEXT(analyzer=words, stored=True, phrase=True),
        chars=TEXT(analyzer=analysis.bigram_analyzer(), phrase=False),
        # Equal for the same story saved under two URLs; results fold such copies into one hit.
        story=ID(sortable=True),
    )


def to_document(article: Article) -> dict:
    doc = {
        "url": article.url,
        "path": article.path,
        "source": article.source,
        "title": article.title,
        "lead": article.lead,
        "body": article.body,
        "chars": "\n".join((article.title, article.lead, article.body)),
        "story": story_key(article),
    }
    if article.published is not None:
        # Whoosh's DATETIME wants naive datetimes: store UTC, re-attach it on read.
        doc["published"] = article.published.astimezone(timezone.utc).replace(tzinfo=None)
    return doc


def story_key(article: Article) -> str:
    """A digest of the body's letters and digits (the title's, where there is no body).

    Re-posts under another URL differ in title edits and whitespace, not in the body.
    """
    text = "".join(ch for ch in analysis.normalize(article.body or article.title) if ch.isalnum())
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


_NO_DATE = 2**64 - 1  # what Whoosh's DATETIME column holds for a document without the field


def published_key(reader):
    """docnum -> a sortable int of the publication time; undated documents get -1 (they sort last).

    Whoosh's own datetime view of the column overflows on undated documents.
    """
    column = reader.column_reader("published", translate=False)

    def key(docnum: int) -> int:
        value = column[docnum]
        return -1 if value == _NO_DATE else value

    return key


def key_to_datetime(value: int) -> datetime | None:
    from whoosh.util.times import long_to_datetime

    return None if value < 0 else long_to_datetime(value).replace(tzinfo=timezone.utc)


def stored_published(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=timezone.utc)
