"""Parse one fetched article file (bytes) into an `Article`, or raise `ArticleParseError`.

File format (written by the duty-machine/news archiver)::

    <!--1699524901000-->            optional: pubDate in epoch milliseconds
    [title](url)                    the title may span lines and contain "[" / "]"
    ------
    日期：Tue, 23 Jun 2020 …       optional (old CDT writer, which has no epoch line)

    <html on one line>

The header is split on "\\n" only: some RFA files carry a bare CR inside the HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from html import unescape
from urllib.parse import urlsplit, urlunsplit

from indexer.errors import ArticleParseError
from indexer.html_text import extract, normalize_space

# Real articles are under 100 KB; Whoosh holds a document's postings in memory, and a
# 19 MB file peaked near 1 GB, so anything past this is skipped with a size reason.
MAX_FILE_BYTES = 4 * 1024 * 1024

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class Article:
    url: str  # normalised identity, see normalize_url
    title: str
    published: datetime | None  # tz-aware UTC
    source: str  # outlet code, see source_of
    lead: str
    body: str  # one paragraph per line
    path: str  # as given by the caller
    warnings: tuple[str, ...] = ()  # non-fatal problems met while reading


# ---------------------------------------------------------------- URLs

_SOURCES = (
    ("rfi.fr", "RFI"),
    ("dw.com", "DW"),
    ("bbc.com", "BBC"),
    ("bbc.co.uk", "BBC"),
    ("voachinese.com", "VOA"),
    ("voanews.com", "VOA"),
    ("reuters.com", "Reuters"),
    ("ft.com", "FT"),
    ("ftchinese.com", "FT"),
    ("nytimes.com", "NYT"),
    ("rfa.org", "RFA"),
    ("chinadigitaltimes.net", "CDT"),
)

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# RFC 3986 reserved characters: their literal and %-encoded forms mean different things.
_RESERVED = frozenset(b":/?#[]@!$&'()*+,;=")
_HEX = frozenset(b"0123456789abcdefABCDEF")


def _canonical_percent(part: str) -> str:
    """RFC 3986 §6.2.2 normalisation of one URL component, byte by byte.

    Escapes of unreserved characters are decoded, every other escape gets upper-case hex,
    non-ASCII characters are UTF-8 encoded and escaped, reserved characters keep the form
    they had (``/`` and ``%2F`` differ), a ``%`` that starts no escape becomes ``%25``.
    So ``%e4%b8%ad``, ``%E4%B8%AD`` and ``中`` all give ``%E4%B8%AD``.
    """
    raw = part.encode("utf-8", "surrogatepass")
    out = []
    i, n = 0, len(raw)
    while i < n:
        b = raw[i]
        if b == 0x25 and i + 2 < n and raw[i + 1] in _HEX and raw[i + 2] in _HEX:
            value = int(raw[i + 1 : i + 3], 16)
            out.append(chr(value) if value in _UNRESERVED else f"%{value:02X}")
            i += 3
            continue
        if b in _UNRESERVED or b in _RESERVED:
            out.append(chr(b))
        else:
            out.append(f"%{b:02X}")
        i += 1
    return "".join(out)


def normalize_url(url: str) -> str:
    """The canonical form of an article URL, used as the document identity.

    * scheme ``http`` (or none) → ``https``: the outlets serve the same page on both;
    * host lower-cased, IDNA-encoded when non-ASCII, default port dropped;
    * runs of ``/`` in the path collapsed (RFI 2020 wrote ``www.rfi.fr//cn/…``), empty path → ``/``;
    * fragment dropped, query kept (FT's ``?full=y`` is part of the address);
    * percent-encoding canonicalised by `_canonical_percent` in path and query, so the
      percent-encoded and the decoded (IRI) spelling of a URL give the same string.

    Raises ValueError when the string is not a URL with a host.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme in ("", "http"):
        scheme = "https"
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValueError(f"no host in URL {url!r}")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            host = _canonical_percent(host)
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port  # ValueError on a non-numeric port
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{_canonical_percent(userinfo)}@{host}" if userinfo else host
    path = re.sub(r"/{2,}", "/", _canonical_percent(parts.path)) or "/"
    return urlunsplit((scheme, netloc, path, _canonical_percent(parts.query), ""))


def source_of(url: str) -> str:
    """Outlet code for a URL's host (``RFI``, ``DW``, …); unknown hosts give the host without ``www.``."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".")
    except ValueError:
        return ""
    for domain, code in _SOURCES:
        if host == domain or host.endswith("." + domain):
            return code
    return host.removeprefix("www.")


# ---------------------------------------------------------------- bytes → str

_UTF8_BOM = b"\xef\xbb\xbf"
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_ASCII = bytes(range(128))


def _decode(data: bytes, path: str) -> tuple[str, list[str]]:
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    if b"\x00" in data:
        raise ArticleParseError(path, "binary file (NUL bytes)")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    # surrogateescape maps each invalid byte to one lone surrogate, so they can be counted
    text = data.decode("utf-8", "surrogateescape")
    bad = len(_ESCAPED_BYTE.findall(text))
    non_ascii = len(data.translate(None, _ASCII))
    replaced = (_ESCAPED_BYTE.sub("\ufffd", text), [f"{bad} invalid UTF-8 bytes replaced by U+FFFD"])
    # In GB18030 text most non-ASCII bytes are invalid UTF-8; in damaged UTF-8 only a few are.
    if bad * 20 <= non_ascii:
        return replaced
    try:
        return data.decode("gb18030"), ["not UTF-8, read as GB18030"]
    except UnicodeDecodeError:
        pass
    if bad * 10 <= len(data):
        return replaced
    raise ArticleParseError(path, "binary file (neither UTF-8 nor GB18030)")


# ---------------------------------------------------------------- header

_BLANK_LINES = re.compile(r"(?:[ \t\r]*\n)*")
_COMMENT_LINE = re.compile(r"[ \t\r]*<!--(.*?)-->[ \t\r]*(?:\n|$)")
_TITLE_END = re.compile(r"\]\(\s*(?=https?://)", re.I)
# RFI's AFP wire titles end in the site's name: page furniture, and it would put
# 法国国际广播电台 into 544 titles.
_SITE_SUFFIX = re.compile(r"\s+[–-]\s*法国国际广播电台\s*-\s*RFI$")

# A title spans lines only in one known file; this bounds the search for its "](http".
_MAX_TITLE_CHARS = 2000
_DASH_LINE = re.compile(r"^-{3,}[ \t\r]*$", re.M)
_AFTER_URL = re.compile(r"(?:[ \t\r]*\n)*-{3,}[ \t\r]*(?=\n|$)")
_DATE_LINE = re.compile(r"(?:[ \t\r]*\n)*[ \t]*日期[：:][ \t]*([^\n]*)")
_DATE_DIV = re.compile(r"<div>\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*-\s*(\d{1,2}):(\d{2})\s*</div>")


def _from_epoch_ms(value: str) -> datetime | None:
    try:
        return _EPOCH + timedelta(milliseconds=int(value))
    except (OverflowError, ValueError):
        return None


def _from_rfc2822(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # "-0000": UTC, source zone unknown
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None


def _from_date_div(html: str) -> datetime | None:
    m = _DATE_DIV.search(html, 0, 2000)
    if not m:
        return None
    day, month, year, hour, minute = map(int, m.groups())
    try:
        return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)
    except ValueError:
        return None


@dataclass
class _Header:
    title: str
    url: str
    published: datetime | None
    body_start: int  # offset of the HTML in the decoded text


def _parse_header(text: str, path: str, warnings: list[str]) -> _Header:
    pos = _BLANK_LINES.match(text).end()
    published = None
    m = _COMMENT_LINE.match(text, pos)
    if m:
        stamp = m.group(1).strip()
        published = _from_epoch_ms(stamp) if stamp.isascii() and stamp.isdigit() else None
        if published is None:
            warnings.append(f"unreadable timestamp line <!--{stamp[:40]}-->")
        pos = _BLANK_LINES.match(text, m.end()).end()
    if not text.startswith("[", pos):
        raise ArticleParseError(path, "no [title](url) line")

    # Match on "](http": titles may contain "[", "]" and newlines, but never "](http".
    m = _TITLE_END.search(text, pos, pos + _MAX_TITLE_CHARS)
    if not m or _DASH_LINE.search(text, pos, m.start()):
        raise ArticleParseError(path, "title without URL")
    title = _SITE_SUFFIX.sub("", normalize_space(unescape(text[pos + 1 : m.start()])))
    if not title:
        raise ArticleParseError(path, "empty title")
    url_end = text.find("\n", m.end())
    url_end = len(text) if url_end < 0 else url_end
    raw_url = text[m.end() : url_end].strip().removesuffix(")").strip()
    try:
        url = normalize_url(raw_url)
    except ValueError:
        raise ArticleParseError(path, f"invalid URL {raw_url[:200]!r}") from None

    pos = url_end
    m = _AFTER_URL.match(text, pos)
    if m:
        pos = m.end()
    m = _DATE_LINE.match(text, pos)
    if m:
        pos = m.end()
        if published is None:
            published = _from_rfc2822(m.group(1))
    return _Header(title, url, published, pos)


def parse_article(data: bytes, path: str) -> Article:
    """Parse the bytes of one article file; `path` is only carried along and used in errors.

    Raises ArticleParseError for: too large, empty, binary, no ``[title](url)`` line, a title
    without URL, an invalid URL, an empty title, and a header with no HTML after it.
    """
    if len(data) > MAX_FILE_BYTES:
        raise ArticleParseError(path, f"file too large ({len(data)} bytes > {MAX_FILE_BYTES})")
    if not data.strip():
        raise ArticleParseError(path, "empty file")
    text, warnings = _decode(bytes(data), path)
    text = text.removeprefix("\ufeff")
    head = _parse_header(text, path, warnings)
    html = text[head.body_start :]
    if not html.strip():
        raise ArticleParseError(path, "header only, no article text")
    published = head.published or _from_date_div(html)

    source = source_of(head.url)
    extracted = extract(html, source)
    warnings.extend(extracted.warnings)
    if not extracted.body and not extracted.lead:
        warnings.append("no body text")
    return Article(
        url=head.url,
        title=head.title,
        published=published,
        source=source,
        lead=extracted.lead,
        body=extracted.body,
        path=path,
        warnings=tuple(warnings),
    )
