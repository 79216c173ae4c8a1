"""Name variants: groups of names that outlets in different regions write differently
(特朗普 / 川普, 悉尼 / 雪梨), so that a query for one finds the others.

A variants file holds one group per line, its variants separated by spaces; `#` starts a
comment. Variants are normalised like all text (traditional script folds to simplified), so a
group written in either script is the same group. A variant that is in two groups merges them
(with a warning), a group of one variant is ignored (with a warning), and a line with a variant
that is not a run of letters and digits is an error naming the file and the line.

The table zhsearch ships (`builtin()`) is two package files: variants-mediawiki.txt, derived
from MediaWiki's conversion tables by scripts/build_variants.py (GPL-2.0-or-later, as its
source), and variants-curated.txt, kept by hand (MIT). Pure Python: no index, no jieba.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from indexer.analysis import normalize
from indexer.errors import VariantsError

PACKAGED = ("variants-mediawiki.txt", "variants-curated.txt")


@dataclass(frozen=True, slots=True, eq=False)
class VariantGroups:
    """Disjoint groups of variants (normalised); `warnings` are what reading them noticed,
    each "line N: ..." of `source`."""

    groups: tuple[tuple[str, ...], ...] = ()
    source: str = ""
    warnings: tuple[str, ...] = ()
    _group_of: dict[str, int] = field(init=False, repr=False)
    _longest: int = field(init=False, repr=False)

    def __post_init__(self):
        index = {v: i for i, group in enumerate(self.groups) for v in group}
        object.__setattr__(self, "_group_of", index)
        object.__setattr__(self, "_longest", max(map(len, index), default=0))

    def __len__(self) -> int:
        return len(self.groups)

    def group_of(self, variant: str) -> tuple[str, ...] | None:
        """The group holding `variant` (normalised), or None."""
        i = self._group_of.get(variant)
        return None if i is None else self.groups[i]

    def find(self, words: list[str]) -> list[tuple[int, int, tuple[str, ...]]]:
        """(start, end, group) for each run words[start:end] that is a variant, longest first
        from the left: the variants a query's words hold, whole words only."""
        found, i = [], 0
        while i < len(words):
            for j in range(len(words), i, -1):
                run = "".join(words[i:j])
                if len(run) <= self._longest and (group := self.group_of(run)) is not None:
                    found.append((i, j, group))
                    i = j
                    break
            else:
                i += 1
        return found

    def merged(self, other: "VariantGroups") -> "VariantGroups":
        """These groups and `other`'s; groups sharing a variant become one (silently: a user
        group that names a built-in variant extends that group)."""
        if not other.groups:
            return self
        if not self.groups:
            return other
        groups, _ = _union([(0, g) for g in self.groups + other.groups])
        return VariantGroups(groups, f"{self.source} + {other.source}")

    def to_text(self) -> str:
        """The groups in the file format (what an index keeps)."""
        return "".join(" ".join(g) + "\n" for g in self.groups)


def _union(numbered: list[tuple[int, tuple[str, ...]]]) -> tuple[tuple[tuple[str, ...], ...], list[str]]:
    """Merge groups that share a variant (union-find over the groups, in order); the warnings
    name the lines of numbered groups (line 0: no warning)."""
    parent = list(range(len(numbered)))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = k = parent[parent[k]]
        return k

    first: dict[str, int] = {}  # variant -> the first group that named it
    warnings: list[str] = []
    for k, (line, group) in enumerate(numbered):
        for v in group:
            j = first.setdefault(v, k)
            if j == k:  # most variants: named once
                continue
            a, b = root(j), root(k)
            if a != b:
                if line:
                    warnings.append(f"line {line}: {v} is also in the group of line {numbered[j][0]}: "
                                    f"the two are merged")
                parent[max(a, b)] = min(a, b)
    out: dict[int, tuple[str, ...]] = {}
    for k, (_, group) in enumerate(numbered):
        r = k if parent[k] == k else root(k)
        out[r] = tuple(dict.fromkeys(out[r] + group)) if r in out else group
    return tuple(out.values()), warnings


def _malformed(lines: list[str], stripped: list[str], source: str) -> VariantsError:
    """The error for the first line with a variant that is not letters and digits."""
    for n, (line, norm) in enumerate(zip(lines, stripped), 1):
        for k, v in enumerate(norm.split()):
            if not v.isalnum():
                raw = line.split()[k]
                return VariantsError(f"{source}, line {n}: {raw!r} is not a name: a variant is letters and "
                                     f"digits only (variants are separated by spaces)", path=source, line=n)
    raise AssertionError("no malformed line")


def parse_variants(text: str, source: str = "") -> VariantGroups:
    """Groups from the text of a variants file; VariantsError names the first malformed line."""
    lines = text.splitlines()
    # Normalising the whole text at once is much faster than line by line; it maps one
    # character to one (line breaks to themselves), so its lines are the text's lines.
    # The checks, too, run over the whole text first: 100,000 groups must load in a second.
    norm = normalize(text)
    stripped = norm.splitlines()
    if "#" in norm:
        stripped = [line.split("#", 1)[0] for line in stripped]
    content = "".join("".join(stripped).split())
    if content and not content.isalnum():
        raise _malformed(lines, stripped, source)
    numbered: list[tuple[int, tuple[str, ...]]] = []
    single: list[int] = []
    for n, group in enumerate(map(str.split, stripped), 1):
        if len(group) > 1:
            numbered.append((n, tuple(group)))
        elif group:
            single.append(n)
    table = VariantGroups(tuple(g for _, g in numbered), source)
    merges: list[str] = []
    if len(table._group_of) < sum(map(len, table.groups)):
        # some variant is named twice (most files name each once, and skip all this)
        deduped = [(n, tuple(dict.fromkeys(g))) for n, g in numbered]
        numbered = [(n, g) for n, g in deduped if len(g) > 1]
        single = sorted(single + [n for n, g in deduped if len(g) == 1])
        groups, merges = _union(numbered)
        table = VariantGroups(groups, source)
    warnings = [f"line {n}: a group of one variant ({lines[n - 1].split()[0]}) is ignored" for n in single]
    return VariantGroups(table.groups, source, tuple(warnings + merges)) if warnings or merges else table


def read_variants(path: str | os.PathLike, *, allow_empty: bool = False) -> VariantGroups:
    """Read a variants file. VariantsError if it cannot be read, is binary or not UTF-8, has a
    malformed line, or (unless `allow_empty`: an index's empty file removes its groups) holds
    no group."""
    source = str(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise VariantsError(f"cannot read variants file {source}: {(exc.strerror or str(exc)).lower()}",
                            path=source) from None
    if b"\0" in data:
        raise VariantsError(f"{source}: a binary file, not a variants file", path=source)
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise VariantsError(f"{source}, line {line}: not UTF-8 text", path=source, line=line) from None
    table = parse_variants(text, source)
    if not table.groups and not allow_empty:
        raise VariantsError(f"{source}: no group of variants in it (one group per line, "
                            f"variants separated by spaces)", path=source)
    return table


@lru_cache(maxsize=1)
def builtin() -> VariantGroups:
    """The table zhsearch ships (see README, "Name variants")."""
    data = resources.files("search").joinpath("data")
    table = VariantGroups(source="built-in")
    for name in PACKAGED:
        table = table.merged(parse_variants(data.joinpath(name).read_text(encoding="utf-8"), name))
    return VariantGroups(table.groups, "built-in")


def as_groups(variants: "VariantGroups | str | os.PathLike | None") -> VariantGroups | None:
    """A VariantGroups given as itself or as a file to read."""
    if variants is None or isinstance(variants, VariantGroups):
        return variants
    return read_variants(variants)
