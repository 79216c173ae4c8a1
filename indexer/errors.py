"""Typed errors of the library. Only the CLI edge turns them into messages and exit codes."""


class ZhsearchError(Exception):
    """Base class of every error zhsearch raises on purpose."""


class ArticleParseError(ZhsearchError):
    """A file is not a readable article; `reason` says why in a few words."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexNotFound(ZhsearchError):
    """There is no zhsearch index at the given folder."""


class IndexUnusable(ZhsearchError):
    """The folder exists but cannot be used as an index (not an index, unreadable, not writable)."""


class IndexVersionMismatch(ZhsearchError):
    """The index was built by another schema/analysis version or user dictionary: rebuild it."""


class IndexLocked(ZhsearchError):
    """Another indexer holds the write lock; `holder` describes it (pid, since when)."""

    def __init__(self, message: str, holder: str = ""):
        super().__init__(message)
        self.holder = holder


class QuerySyntaxError(ZhsearchError):
    """A query the small query language cannot parse; `position` is a 0-based code point offset."""

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message if position is None else f"{message} (at position {position})")
        self.position = position


class CorpusNotFound(ZhsearchError):
    """A corpus folder given to the indexer does not exist or is not a folder."""


class IndexWriteFailed(ZhsearchError):
    """Writing the index failed (a full disk, say); the previous index is intact."""


class UserDictError(ZhsearchError):
    """A user dictionary that cannot be used: a malformed line (`path`, `line`), an unreadable
    file, or another dictionary already loaded in this process (jieba's is process-global)."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.path = path
        self.line = line


class IndexClosed(ZhsearchError):
    """Hits were iterated after their Index was closed or refreshed: make them while it is open."""


class ArticleNotFound(ZhsearchError):
    """No indexed article has the URL given (`url`)."""

    def __init__(self, url: str):
        # undecodable bytes from a command line stay visible and printable
        super().__init__(f"no indexed article has the URL {url.encode('utf-8', 'backslashreplace').decode()}")
        self.url = url


class VariantsError(ZhsearchError):
    """A name-variants file that cannot be used: unreadable, empty, binary, not UTF-8, or a
    malformed line (`path`, `line`)."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.path = path
        self.line = line
