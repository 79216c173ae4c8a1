"""zhsearch's query language, parsed into a small immutable AST (pure Python, no Whoosh, no jieba).

Grammar, loosest first. As in Whoosh, a space (implicit AND) binds looser than OR, so
``a b OR c`` = ``a AND (b OR c)`` (the Google reading), while an explicit AND binds tighter than
OR, so ``a AND b OR c`` = ``(a AND b) OR c`` (the boolean-logic reading)::

    sequence = or_expr { or_expr }                    (juxtaposition: all must match)
    or_expr  = and_expr { "OR" and_expr }
    and_expr = unary { "AND" unary }
    unary    = ("-" | "NOT") unary | primary          (but no double negation)
    primary  = [FIELD ":"] (WORD | PHRASE | "(" sequence ")")   (no space after the colon)
    FIELD    = "title" | "lead" | "body"              (case-insensitive)

Choices:
- Keywords are ASCII uppercase ``OR`` ``AND`` ``NOT`` standing alone; ``or`` and ``ＯＲ`` are words.
- Phrases: "…", “…”, 「…」, 『…』 (an empty one is an error). Groups: (…) and （…）.
- A word is a run of letters/digits (``str.isalnum``), combining marks and the in-word joiners
  ``- _ ' ’ . · : / @ & + #`` (and ``,`` between digits): ``COVID-19``, ``U.S.``, ``1,000`` stay one
  Term; the analyzer splits them later. Any other non-space character (Chinese punctuation,
  ``，：！`` …) separates words exactly like a space, so ``卡塔尔，人质`` = ``卡塔尔 人质``.
  A word without any letter or digit (``...``) is dropped; if nothing is left: "query has no
  searchable words". Control characters count as spaces.
- ``-`` negates only at the start of a word (after a space, paren, quote, or the start) and must
  touch what it negates: ``a - b`` is a dangling operator.
- ``name:`` (or ``name：``) is a field prefix only at the start of a word with ``name`` ASCII
  letters; an unknown name is an error (catches ``titel:x``), except before ``//``
  (``http://x`` is a word). ``卡塔尔:x`` is a word.
- A field on a group applies to every word/phrase inside (stored on each leaf); a different
  field inside it is an error (``title:(lead:x)``), the same one is allowed.
- A purely negative query (``-foo``) is an error rather than "everything except foo"; likewise
  each side of OR needs a positive term (``a OR -b`` would match almost everything).
- Nested And/Or of the same kind are flattened; a single-child And/Or is its child.
- ``to_string`` writes the AST in this same language (explicit AND/OR/NOT, every nested And/Or
  in parentheses), so ``parse(to_string(ast)) == ast`` (``pos`` is not part of equality); for a
  query near the length limit the explicit form may exceed it.
- At most MAX_QUERY_CHARS characters and MAX_DEPTH nested parentheses; the tokenizer and the
  parser are single pass without regexes, so time is linear in the query length.
"""

from unicodedata import category

from indexer.errors import QuerySyntaxError

__all__ = ["FIELDS", "MAX_QUERY_CHARS", "MAX_DEPTH", "Term", "Phrase", "Not", "And", "Or",
           "parse", "positive_leaves", "positive_texts", "to_string", "has_word_chars", "QuerySyntaxError"]

FIELDS = ("title", "lead", "body")
MAX_QUERY_CHARS = 1000
MAX_DEPTH = 32
_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』"}
_OPEN, _CLOSE = "(（", ")）"
_JOINERS = frozenset("-_'’.·:/@&+#")
_KEYWORDS = ("OR", "AND", "NOT")
_CONTROLS = {c: " " for c in [*range(32), 127]}


class _Node:
    """Immutable, compared by value. Hand-written rather than dataclasses because importing
    dataclasses (it pulls in inspect) costs ~6 ms, more than the CLI's whole budget."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _compared: tuple[str, ...] = ()

    def __init__(self, *values):
        for name, value in zip(self._fields, values, strict=True):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable")

    __delattr__ = __setattr__

    def __eq__(self, other):
        return type(self) is type(other) and all(
            getattr(self, n) == getattr(other, n) for n in self._compared)

    def __hash__(self):
        return hash((type(self).__name__, *(getattr(self, n) for n in self._compared)))

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(repr(getattr(self, n)) for n in self._fields)})"

    def __reduce__(self):  # default pickling would go through the blocked __setattr__
        return type(self), tuple(getattr(self, n) for n in self._fields)


class _Leaf(_Node):
    __slots__ = _fields = __match_args__ = ("text", "field", "pos")
    _compared = ("text", "field")  # pos is where it was typed, not what it means

    def __init__(self, text: str, field: str | None = None, pos: int = 0):
        super().__init__(text, field, pos)


class Term(_Leaf):
    """A bare word as typed (Chinese run, Latin word, mixed); ``field`` None means any field."""
    __slots__ = ()


class Phrase(_Leaf):
    """A quoted phrase; ``pos`` is the offset of its opening quote."""
    __slots__ = ()


class Not(_Node):
    __slots__ = _fields = __match_args__ = _compared = ("node",)

    def __init__(self, node: "Node"):
        super().__init__(node)


class _Group(_Node):
    __slots__ = _fields = __match_args__ = _compared = ("nodes",)

    def __init__(self, nodes: tuple["Node", ...]):
        super().__init__(tuple(nodes))


class And(_Group):
    __slots__ = ()


class Or(_Group):
    __slots__ = ()


Node = Term | Phrase | Not | And | Or


def has_word_chars(s: str) -> bool:
    return any(c.isalnum() for c in s)


def _in_word(c: str) -> bool:
    return c.isalnum() or c in _JOINERS or category(c)[0] == "M"


def _tokenize(q: str) -> list[tuple[str, str, int]]:
    """Tokens are (kind, value, pos); kind is TERM, PHRASE, FIELD, (, ), OR, AND or NOT."""
    toks, i, n = [], 0, len(q)
    while i < n:
        c = q[i]
        if c in _OPEN or c in _CLOSE:
            toks.append(("(" if c in _OPEN else ")", c, i))
            i += 1
        elif c in _QUOTES:
            j = q.find(_QUOTES[c], i + 1)
            if j < 0:
                raise QuerySyntaxError(f"unbalanced quote {c}", i)
            if not has_word_chars(q[i + 1:j]):
                raise QuerySyntaxError("empty phrase", i)
            toks.append(("PHRASE", q[i + 1:j], i))
            i = j + 1
        elif c == "-":
            nxt = q[i + 1:i + 2]
            if not nxt or not (_in_word(nxt) or nxt in _OPEN or nxt in _QUOTES):
                raise QuerySyntaxError("'-' needs a word, phrase or group right after it", i)
            toks.append(("NOT", "-", i))
            i += 1
        elif _in_word(c):
            j = i
            while j < n and q[j].isascii() and q[j].isalpha():
                j += 1
            if i < j < n and q[j] in ":：" and not q.startswith("//", j + 1):
                if q[i:j].lower() not in FIELDS:
                    raise QuerySyntaxError(
                        f"unknown field '{q[i:j]}'; fields are {', '.join(FIELDS)}", i)
                toks.append(("FIELD", q[i:j].lower(), i))
                i = j + 1
                continue
            while j < n and (_in_word(q[j]) or (
                    q[j] == "," and q[j - 1].isdigit() and q[j + 1:j + 2].isdigit())):
                j += 1
            word = q[i:j]
            if word in _KEYWORDS:
                toks.append((word, word, i))
            elif has_word_chars(word):
                toks.append(("TERM", word, i))
            i = j
        else:  # whitespace or a separating punctuation mark
            i += 1
    return toks


def _positive(node: Node) -> bool:
    """Whether the node can match without meaning "every document except ..."."""
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(map(_positive, node.nodes))
    if isinstance(node, Or):
        return all(map(_positive, node.nodes))
    return True


def _join(cls, nodes: list[Node]) -> Node:  # flatten And(And(..)), collapse And(x)
    flat = [m for n in nodes for m in (n.nodes if isinstance(n, cls) else (n,))]
    return flat[0] if len(flat) == 1 else cls(tuple(flat))


class _Parser:
    """Recursive descent over the token list. ``field`` and ``group`` (the open paren token)
    describe the enclosing context; ``pending`` is the operator token waiting for an operand,
    passed down only to name errors well."""

    def __init__(self, toks, end: int):
        self.toks, self.i, self.end = toks, 0, ("END", "", end)
        self.field, self.group, self.depth = None, None, 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else self.end

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def sequence(self):
        nodes = [self.or_expr(None)]
        while self.peek()[0] not in ("END", ")"):
            nodes.append(self.or_expr(None))
        return _join(And, nodes)

    def or_expr(self, pending):
        branches = [(self.peek()[2], self.and_expr(pending))]
        while self.peek()[0] == "OR":
            op = self.take()
            branches.append((self.peek()[2], self.and_expr(op)))
        for pos, node in branches if len(branches) > 1 else ():
            if not _positive(node):
                raise QuerySyntaxError("each side of OR needs a positive term", pos)
        return _join(Or, [node for _, node in branches])

    def and_expr(self, pending):
        nodes = [self.unary(pending)]
        while self.peek()[0] == "AND":
            nodes.append(self.unary(self.take()))
        return _join(And, nodes)

    def unary(self, pending):
        if self.peek()[0] != "NOT":
            return self.primary(pending)
        op = self.take()
        pos = self.peek()[2]
        if self.peek()[0] == "NOT":  # checked before recursing: "----x" must not recurse deeply
            raise QuerySyntaxError("double negation", pos)
        node = self.unary(op)
        if isinstance(node, Not):  # -(-x)
            raise QuerySyntaxError("double negation", pos)
        return Not(node)

    def primary(self, pending):
        tok = kind, value, pos = self.take()
        if kind == "TERM":
            return Term(value, self.field, pos)
        if kind == "PHRASE":
            return Phrase(value, self.field, pos)
        if kind == "FIELD":
            if self.field not in (None, value):
                raise QuerySyntaxError(f"field '{value}' inside '{self.field}:(…)'", pos)
            nxt_kind, _, nxt_pos = self.peek()
            if nxt_kind not in ("TERM", "PHRASE", "(") or nxt_pos != pos + len(value) + 1:
                raise QuerySyntaxError(
                    f"'{value}:' needs a word, phrase or group right after it", pos)
            outer, self.field = self.field, value
            node = self.primary(None)
            self.field = outer
            return node
        if kind == "(":
            if self.depth >= MAX_DEPTH:
                raise QuerySyntaxError(f"too many nested parentheses (at most {MAX_DEPTH})", pos)
            outer, self.group = self.group, tok
            self.depth += 1
            node = self.sequence()
            if self.take()[0] != ")":
                raise QuerySyntaxError("unbalanced parenthesis", pos)
            self.group = outer
            self.depth -= 1
            return node
        if pending is not None:
            raise QuerySyntaxError(
                f"'{pending[1]}' needs a word, phrase or group after it", pending[2])
        if kind in ("OR", "AND"):
            raise QuerySyntaxError(f"'{kind}' needs a word, phrase or group before it", pos)
        if kind == ")" and self.group is not None:
            raise QuerySyntaxError("empty group", self.group[2])
        raise QuerySyntaxError("unbalanced parenthesis", self.group[2] if self.group else pos)


def parse(q: str, max_chars: int = MAX_QUERY_CHARS) -> Node:
    """Parse a query into its AST; raises QuerySyntaxError naming the offending position.

    `max_chars`: a caller that bounds the work otherwise (`--any`) may allow longer queries."""
    if len(q) > max_chars:
        raise QuerySyntaxError(
            f"query too long ({len(q)} characters; at most {max_chars})", max_chars)
    q = q.translate(_CONTROLS)
    if not q.strip():
        raise QuerySyntaxError("empty query", 0)
    toks = _tokenize(q)
    if not toks:
        raise QuerySyntaxError("query has no searchable words", len(q) - len(q.lstrip()))
    parser = _Parser(toks, len(q))
    node = parser.sequence()
    if parser.peek()[0] != "END":  # a ')' closing nothing
        raise QuerySyntaxError("unbalanced parenthesis", parser.peek()[2])
    if not _positive(node):
        raise QuerySyntaxError("a query needs at least one positive term", toks[0][2])
    return node


def positive_leaves(node: Node) -> list["Term | Phrase"]:
    """Every Term/Phrase not under a Not, in query order (the parser refuses double negation)."""
    if isinstance(node, _Leaf):
        return [node]
    if isinstance(node, Not):
        return []
    return [leaf for child in node.nodes for leaf in positive_leaves(child)]


def positive_texts(node: Node) -> list[tuple[str, bool]]:
    """The (text, is_phrase) of every Term/Phrase not under a Not, in query order."""
    return [(leaf.text, isinstance(leaf, Phrase)) for leaf in positive_leaves(node)]


def to_string(node: Node) -> str:
    """Canonical form in the query language itself, e.g.
    ``title:"卡塔尔" AND (人质 OR hostage) AND NOT 美国``."""
    if isinstance(node, _Leaf):
        prefix = f"{node.field}:" if node.field else ""
        if isinstance(node, Term):
            return prefix + node.text
        # a phrase never contains its own closing quote, so one of the styles always fits
        opening, closing = next((o, c) for o, c in _QUOTES.items() if c not in node.text)
        return f"{prefix}{opening}{node.text}{closing}"
    if isinstance(node, Not):
        return "NOT " + _operand(node.node)
    return (" AND " if isinstance(node, And) else " OR ").join(map(_operand, node.nodes))


def _operand(node: Node) -> str:
    return f"({to_string(node)})" if isinstance(node, _Group) else to_string(node)
