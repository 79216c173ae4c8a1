"""The Python search API (issue 3, with the recall/phrase/highlight goals of issue 4).

Expected result sets are computed independently of the search code, by scanning the texts
stored in the index (opened with Whoosh directly), so a test fails when the engine misses or
invents a match, not only when its output changes. Pool-based tests share the session-scoped
`pool_index` / `pool_ix` fixtures (the pool is indexed once per run) and skip without the pool.
"""

from __future__ import annotations

import random
import re
import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote

import orjson
import pytest

import search
from indexer import update_index
from indexer.analysis import normalize, query_words
from indexer.errors import IndexNotFound, IndexUnusable, QuerySyntaxError

from .conftest import SEED

SEED_URL = (
    "https://www.rfi.fr/cn/%E4%B8%AD%E4%B8%9C/20231109-%E5%8D%A1%E5%A1%94%E5%B0%94%E6%96%A1"
    "%E6%97%8B%E5%93%88%E9%A9%AC%E6%96%AF%E9%87%8A%E6%94%BE%E4%BA%BA%E8%B4%A8"
)
SEED_TITLE = "卡塔尔斡旋哈马斯释放人质"
HIT_KEYS = {"rank", "score", "url", "title", "published", "source", "path", "snippet", "highlights"}
OPTIONAL_HIT_KEYS = {"title_highlights", "duplicates"}  # extras: title highlights, folded copies (issue 4)
FIELDS = ("title", "lead", "body")
HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
WS = re.compile(r"\s+")


# ---------------------------------------------------------------- helpers


ARTICLE = """{stamp}[{title}]({url})
------

<p><strong>{lead}</strong></p><div>{body}</div>
"""


def write_article(folder: Path, name: str, *, title: str, url: str, lead: str = "", body: str = "",
                  published: datetime | None = None) -> Path:
    """One article file in the fetcher's format; `published=None` writes an undated article."""
    stamp = "" if published is None else f"<!--{int(published.timestamp() * 1000)}-->\n"
    paras = "".join(f"<p>{p}</p>" for p in body.split("\n") if p)
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ARTICLE.format(stamp=stamp, title=title, url=url, lead=lead, body=paras), encoding="utf-8")
    return path


def build(tmp: Path, files: dict[str, dict]) -> search.Index:
    corpus = tmp / "corpus"
    for name, fields in files.items():
        write_article(corpus, name, **fields)
    update_index([corpus], tmp / "index")
    return search.open_index(tmp / "index")


def squash(text: str) -> str:
    """Normalised, whitespace removed: for 'contains it literally, ignoring whitespace'."""
    return WS.sub("", normalize(text))


def latin_re(word: str) -> re.Pattern:
    """A whole Latin/digit token in normalised text."""
    return re.compile(rf"(?<![0-9a-z]){re.escape(normalize(word))}(?![0-9a-z])")


def urls(hits) -> list[str]:
    return [h.url for h in hits]


def all_urls(ix, query: str, **kw) -> set[str]:
    """Every matching URL with limit=0: the hits and the copies folded into them (Hit.duplicates)."""
    hits = ix.search(query, limit=0, **kw)
    got = urls(hits)
    assert len(got) == len(set(got)) == hits.total, "limit=0 must return every match exactly once"
    folded = [u for h in hits for u in getattr(h, "duplicates", [])]
    assert not set(folded) & set(got) and len(folded) == len(set(folded))
    return set(got) | set(folded)


class Doc:
    """A stored document with its normalised fields, for scanning."""

    def __init__(self, stored: dict):
        self.stored = stored
        self.url = stored["url"]
        self.norm = {f: normalize(stored.get(f) or "") for f in FIELDS}
        self.joined = "\n".join(self.norm.values())  # Han runs never cross the "\n"
        self.squashed = {f: WS.sub("", t) for f, t in self.norm.items()}

    def has(self, needle: str, fields=FIELDS) -> bool:
        n = normalize(needle)
        return any(n in self.norm[f] for f in fields)

    def has_squashed(self, needle: str, fields=FIELDS) -> bool:
        n = squash(needle)
        return any(n in self.squashed[f] for f in fields)


@pytest.fixture(scope="module")
def pool_docs(pool_index) -> dict[str, Doc]:
    """Every document of the pool index, read with Whoosh directly (not via search): its stored
    fields with its own title, lead and body (the text column with the stored edits)."""
    from whoosh import index as whoosh_index

    from indexer import store
    from indexer.schema import document_texts

    ix = whoosh_index.open_dir(str(store.current_generation_dir(pool_index[0])))
    with ix.searcher() as s:
        r = s.reader()
        docs = {}
        for d in r.all_doc_ids():
            stored = r.stored_fields(d)
            docs[stored["url"]] = Doc({**stored, **document_texts(r, d)})
    ix.close()
    assert len(docs) == pool_index[1].documents
    return docs


def test_the_index_keeps_each_articles_own_text(pool_docs, pool_dir):
    """Lead and body are kept once, as normalised text plus the characters normalising changed
    (schema.edits): what comes back is the parsed file, character for character, whatever its
    script, case or width."""
    from indexer.reader import parse_article

    changed = 0
    for url, doc in pool_docs.items():
        a = parse_article((pool_dir / doc.stored["path"]).read_bytes(), doc.stored["path"])
        assert (a.url, a.title, a.lead, a.body) == (url, doc.stored["title"], doc.stored["lead"], doc.stored["body"])
        changed += doc.stored["body"] != doc.norm["body"]
    assert changed > 100  # many articles hold text that normalising changes (Latin capitals, 全角, 繁體)


def literal_set(docs: dict[str, Doc], needle: str, fields=FIELDS) -> set[str]:
    return {u for u, d in docs.items() if d.has(needle, fields)}


def random_runs(docs: dict[str, Doc], rng: random.Random, field: str, n: int, lo: int, hi: int) -> list[str]:
    """`n` random Han substrings of lo..hi characters cut from `field` of random documents."""
    ordered = [docs[u] for u in sorted(docs)]
    out: list[str] = []
    while len(out) < n:
        doc = rng.choice(ordered)
        runs = [r for r in HAN_RUN.findall(doc.stored.get(field) or "") if len(r) >= lo]
        if not runs:
            continue
        run = rng.choice(runs)
        k = rng.randint(lo, min(hi, len(run)))
        i = rng.randint(0, len(run) - k)
        out.append(run[i:i + k])
    return out


def allowed_highlights(query: str) -> set[str]:
    """What a highlight may be: a positive query word run / phrase or one of its jieba words, or
    a name variant of them (the run with the variant in it, too: issue 14)."""
    from search import query as ql
    from search.variants import builtin

    allowed: set[str] = set()
    for text, is_phrase in ql.positive_texts(ql.parse(query)):
        allowed.add(squash(text))
        if not is_phrase:
            words = query_words(text)
            allowed.update(squash(w) for w in words)
            for i, j, group in builtin().find(words):
                typed = "".join(words[i:j])
                allowed.update(group)
                allowed.update(squash(text).replace(typed, v, 1) for v in group)
    return allowed


def check_spans(text: str, spans, allowed: set[str], where: str) -> None:
    prev = 0
    for span in spans:
        assert isinstance(span, tuple) and len(span) == 2, f"{where}: span {span!r} is not a (start, end) tuple"
        s, e = span
        assert isinstance(s, int) and isinstance(e, int)
        assert prev <= s < e <= len(text), f"{where}: span {span} out of order or out of {len(text)}"
        prev = e
        assert squash(text[s:e]) in allowed, f"{where}: highlighted {text[s:e]!r}, not a query word {allowed}"


# ---------------------------------------------------------------- small indexes


@pytest.fixture(scope="module")
def seed_pool_ix(pool_ix, pool_dir, tmp_path_factory):
    """The seed plus the pool articles nearest its story (found in the pool index), re-indexed."""
    tmp = tmp_path_factory.mktemp("seedpool")
    corpus = tmp / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    neighbours = pool_ix.search("人质 OR 卡塔尔 OR 哈马斯 OR 以色列", limit=40)
    assert len(neighbours) == 40
    for h in neighbours:
        dest = corpus / h.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(pool_dir / h.path, dest)
    update_index([corpus], tmp / "index")
    ix = search.open_index(tmp / "index")
    yield ix
    ix.close()


# ---------------------------------------------------------------- Hit, Hits, to_dict


def test_hit_fields_and_types(pool_ix, pool_dir):
    hits = pool_ix.search("香港 国安法", limit=20)
    assert isinstance(hits, search.Hits)
    assert len(hits) == 20 and hits.total > 20
    sources = set(pool_ix.stats().sources)
    for i, h in enumerate(hits, start=1):
        assert isinstance(h, search.Hit)
        assert h.rank == i and isinstance(h.rank, int)
        assert isinstance(h.score, float) and h.score > 0
        assert isinstance(h.url, str) and h.url.startswith("https://")
        assert isinstance(h.title, str) and h.title
        assert isinstance(h.published, datetime)
        assert h.published.tzinfo is not None and h.published.utcoffset() == timedelta(0)
        assert h.source in sources
        assert isinstance(h.path, str) and (pool_dir / h.path).is_file()
        assert isinstance(h.snippet, str) and 0 < len(h.snippet) <= 200
        assert isinstance(h.highlights, list) and h.highlights
        for span in h.highlights:
            assert isinstance(span, tuple) and len(span) == 2
    assert hits[0].url == next(iter(hits)).url
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_to_dict_is_json_ready(pool_ix):
    for h in pool_ix.search("covid 疫苗", limit=5):
        d = h.to_dict()
        assert HIT_KEYS <= set(d) <= HIT_KEYS | OPTIONAL_HIT_KEYS
        back = orjson.loads(orjson.dumps(d))  # raises on datetimes, tuples stay lists
        assert back == d
        assert isinstance(d["published"], str)
        assert datetime.fromisoformat(d["published"]) == h.published
        assert d["published"].endswith("+00:00")
        assert d["highlights"] == [list(s) for s in h.highlights]
        assert (d["rank"], d["score"], d["url"], d["title"], d["source"], d["path"], d["snippet"]) == (
            h.rank, h.score, h.url, h.title, h.source, h.path, h.snippet)


def test_seed_hit(seed_ix):
    hits = seed_ix.search("卡塔尔 人质")
    assert hits.total == 1
    (h,) = hits
    assert (h.rank, h.url, h.title, h.source, h.path) == (1, SEED_URL, SEED_TITLE, "RFI", SEED.name)
    assert h.published == datetime(2023, 11, 9, 10, 15, 1, tzinfo=timezone.utc)
    assert h.to_dict()["published"] == "2023-11-09T10:15:01+00:00"
    marked = {h.snippet[s:e] for s, e in h.highlights}
    assert marked == {"卡塔尔", "人质"}


def test_total_counts_all_matches_whatever_the_limit(pool_ix):
    full = pool_ix.search("新冠 疫苗", limit=0)
    assert full.total == len(full) > 25
    for limit in (1, 10, 25):
        page = pool_ix.search("新冠 疫苗", limit=limit)
        assert page.total == full.total
        assert len(page) == limit
        assert urls(page) == urls(full)[:limit]


@pytest.mark.parametrize("sort", ["relevance", "date"])
def test_offset_pages_are_disjoint_and_concatenate_to_all(pool_ix, sort):
    full = urls(pool_ix.search("新冠 疫苗", limit=0, sort=sort))
    assert len(full) > 30
    pages: list[str] = []
    offset = 0
    while True:
        page = pool_ix.search("新冠 疫苗", limit=7, offset=offset, sort=sort)
        assert page.total == len(full)
        assert [h.rank for h in page] == list(range(offset + 1, offset + 1 + len(page)))
        if not len(page):
            break
        assert not set(urls(page)) & set(pages)
        pages += urls(page)
        offset += 7
    assert pages == full
    rest = pool_ix.search("新冠 疫苗", limit=0, offset=10, sort=sort)
    assert urls(rest) == full[10:]


def test_open_index_as_context_manager_and_from_env(seed_corpus, tmp_path, monkeypatch):
    update_index([seed_corpus], tmp_path / "index")
    monkeypatch.setenv("ZHSEARCH_INDEX", str(tmp_path / "index"))
    with search.open_index() as ix:
        assert ix.search("人质").total == 1


# ---------------------------------------------------------------- highlights


HIGHLIGHT_QUERIES = [
    "卡塔尔", "人道主义休战", "香港 国安法", '"香港国安法"', "港国安", "中印边界", "covid 疫苗", "COVID-19",
    "G7", "iPhone", "5G 华为", "title:疫情 美国", "特朗普 OR 拜登", "马克思", "国移民局", "疫情 -香港",
]


def test_every_highlight_is_a_query_word(pool_ix, pool_docs):
    queries = HIGHLIGHT_QUERIES + random_runs(pool_docs, random.Random(4), "title", 40, 1, 4)
    for q in queries:
        allowed = allowed_highlights(q)
        for h in pool_ix.search(q, limit=10):
            check_spans(h.snippet, h.highlights, allowed, f"{q!r} snippet of {h.url}")
            check_spans(h.title, getattr(h, "title_highlights", []), allowed, f"{q!r} title of {h.url}")


def test_negated_words_are_not_highlighted(pool_ix):
    for h in pool_ix.search("疫情 -香港", limit=10):
        assert all("香港" not in h.snippet[s:e] for s, e in h.highlights)


def test_each_literal_occurrence_is_one_whole_highlight(pool_ix, pool_docs):
    """Issue 4.4: every occurrence of the query run in the snippet is covered by one span."""
    runs = ["马克思", "人道主义", "香港国安法", "世界卫生组织"] + random_runs(pool_docs, random.Random(8), "body", 30, 2, 5)
    checked = 0
    for q in runs:
        needle = normalize(q)
        for h in pool_ix.search(f'"{q}"', limit=5):
            norm = normalize(h.snippet)
            for m in re.finditer(re.escape(needle), norm):
                checked += 1
                assert any(s <= m.start() and m.end() <= e for s, e in h.highlights), (
                    f"{q!r}: occurrence at {m.start()} in {h.snippet!r} not covered by {h.highlights}")
            # A phrase is highlighted whole: each span is exactly the run.
            assert all(squash(h.snippet[s:e]) == squash(q) for s, e in h.highlights)
    assert checked > 50


def test_title_only_match_snippet_is_the_opening(seed_ix):
    article = seed_ix.get(SEED_URL)
    assert "斡旋" in article.title and "斡旋" not in article.lead + article.body
    (h,) = seed_ix.search("斡旋")
    assert h.snippet.startswith(article.lead[:30])
    assert h.highlights == []
    assert [h.title[s:e] for s, e in getattr(h, "title_highlights", [(3, 5)])] == ["斡旋"]


def test_highlight_of_long_word_is_not_split(seed_ix):
    (h,) = seed_ix.search("人道主义休战")
    marked = [h.snippet[s:e] for s, e in h.highlights]
    assert "人道主义休战" in marked
    assert "人道主义" not in marked and "休战" not in marked


# ---------------------------------------------------------------- query language on the pool


def test_and_narrows_to_the_intersection(pool_ix):
    a, b = all_urls(pool_ix, "香港"), all_urls(pool_ix, "国安法")
    both = all_urls(pool_ix, "香港 国安法")
    assert both == a & b
    assert both and both < a and both < b
    assert all_urls(pool_ix, "香港 AND 国安法") == both


def test_or_widens_to_the_union(pool_ix):
    a, b = all_urls(pool_ix, "卡塔尔"), all_urls(pool_ix, "伊朗")
    either = all_urls(pool_ix, "卡塔尔 OR 伊朗")
    assert either == a | b
    assert either > a and either > b


@pytest.mark.parametrize("query", ["香港 -国安法", "香港 NOT 国安法"])
def test_not_excludes_every_document_with_the_word(pool_ix, pool_docs, query):
    got = all_urls(pool_ix, query)
    assert got == all_urls(pool_ix, "香港") - all_urls(pool_ix, "国安法")
    assert got and len(got) < pool_ix.search("香港").total
    assert not any(pool_docs[u].has("国安法") for u in got)
    assert all(pool_docs[u].has("香港") for u in got)


def test_not_single_character_and_group(pool_ix, pool_docs):
    got = all_urls(pool_ix, "疫情 -港")
    assert got and not any(pool_docs[u].has("港") for u in got)
    got = all_urls(pool_ix, "疫情 -(香港 OR 台湾)")
    assert got == all_urls(pool_ix, "疫情") - all_urls(pool_ix, "香港") - all_urls(pool_ix, "台湾")
    assert not any(pool_docs[u].has("香港") or pool_docs[u].has("台湾") for u in got)


def test_not_with_a_field_excludes_only_that_field(pool_ix, pool_docs):
    rx = latin_re("covid")
    got = all_urls(pool_ix, "covid -title:covid")
    assert got
    assert not any(rx.search(pool_docs[u].norm["title"]) for u in got)
    assert all(rx.search(pool_docs[u].joined) for u in got)
    assert len(got) < pool_ix.search("covid").total


def test_phrase_is_literal_and_narrower_than_words(pool_ix, pool_docs):
    phrase = all_urls(pool_ix, '"香港国安法"')
    assert phrase == literal_set(pool_docs, "香港国安法")
    bare = all_urls(pool_ix, "香港国安法")
    assert phrase < bare  # the bare run also matches articles holding all its words
    assert all_urls(pool_ix, "“香港国安法”") == phrase


def test_random_phrases_precision_and_recall(pool_ix, pool_docs):
    """Issue 4.3: a quoted run returns exactly the articles that contain it (whitespace ignored)."""
    problems = []
    for run in random_runs(pool_docs, random.Random(3), "body", 30, 2, 6):
        got = all_urls(pool_ix, f'"{run}"')
        missing = literal_set(pool_docs, run) - got
        wrong = {u for u in got if not pool_docs[u].has_squashed(run)}
        if missing or wrong:
            problems.append((run, len(missing), len(wrong)))
    assert not problems, f"(phrase, missed, imprecise): {problems}"


def test_phrase_with_spaces_matches_the_run_without_them(seed_ix):
    assert urls(seed_ix.search('"人道主义 休战"')) == [SEED_URL]
    assert urls(seed_ix.search('"人道 主义休战"')) == [SEED_URL]
    # The text has "11 月 8 日": whitespace where the script changes is ignored.
    assert urls(seed_ix.search('"11月8日"')) == [SEED_URL]


def test_quotes_make_a_run_literal_only(seed_ix):
    text = squash(seed_ix.get(SEED_URL).title + seed_ix.get(SEED_URL).lead + seed_ix.get(SEED_URL).body)
    assert "卡塔尔人质" not in text
    assert seed_ix.search("卡塔尔人质").total == 1  # both of its words are in the seed
    assert seed_ix.search('"卡塔尔人质"').total == 0


@pytest.mark.parametrize("field", FIELDS)
def test_field_restricts_the_word_to_that_field(pool_ix, pool_docs, field):
    got = all_urls(pool_ix, f"{field}:疫情")
    assert got == literal_set(pool_docs, "疫情", (field,))
    assert got < all_urls(pool_ix, "疫情")


def test_field_on_a_group_and_a_phrase(pool_ix, pool_docs):
    got = all_urls(pool_ix, "title:(香港 OR 台湾)")
    assert got == literal_set(pool_docs, "香港", ("title",)) | literal_set(pool_docs, "台湾", ("title",))
    got = all_urls(pool_ix, 'title:"香港国安法"')
    assert got and got == literal_set(pool_docs, "香港国安法", ("title",))
    rx = latin_re("covid")
    got = all_urls(pool_ix, "title:covid")
    assert got and all(rx.search(pool_docs[u].norm["title"]) for u in got)


def test_parentheses_change_the_result(pool_ix):
    hk, tw, vac = all_urls(pool_ix, "香港"), all_urls(pool_ix, "台湾"), all_urls(pool_ix, "疫苗")
    grouped_or = all_urls(pool_ix, "(香港 OR 台湾) 疫苗")
    grouped_and = all_urls(pool_ix, "香港 OR (台湾 疫苗)")
    assert grouped_or == (hk | tw) & vac
    assert grouped_and == hk | (tw & vac)
    assert grouped_or != grouped_and
    assert all_urls(pool_ix, "（香港 OR 台湾）疫苗") == grouped_or


def test_chinese_punctuation_separates_like_a_space(pool_ix):
    assert all_urls(pool_ix, "香港，国安法") == all_urls(pool_ix, "香港 国安法")
    assert all_urls(pool_ix, "香港、国安法！") == all_urls(pool_ix, "香港 国安法")


# ---------------------------------------------------------------- substring recall (issue 4.1)


def _recall_problems(pool_ix, pool_docs, runs):
    problems = []
    for run in runs:
        got = all_urls(pool_ix, run)
        missing = literal_set(pool_docs, run) - got
        words = query_words(run)
        # Anything else must at least hold every jieba word of the run.
        unexplained = {u for u in got if not pool_docs[u].has(run)
                       and not all(normalize(w) in pool_docs[u].joined for w in words)}
        if missing or unexplained:
            problems.append((run, len(missing), len(unexplained)))
    return problems


def test_random_runs_from_titles_are_found_wherever_they_occur(pool_ix, pool_docs):
    runs = random_runs(pool_docs, random.Random(20231109), "title", 60, 2, 4)
    assert not _recall_problems(pool_ix, pool_docs, runs)


def test_random_runs_from_bodies_are_found_wherever_they_occur(pool_ix, pool_docs):
    runs = random_runs(pool_docs, random.Random(11), "body", 30, 2, 4)
    assert not _recall_problems(pool_ix, pool_docs, runs)


@pytest.mark.parametrize("run", ["塔尔", "国移民局", "港国安", "炎疫", "杉矶", "情重"])
def test_runs_across_jieba_word_boundaries(pool_ix, pool_docs, run):
    expected = literal_set(pool_docs, run)
    assert expected, f"{run} is not in the pool"
    assert expected <= all_urls(pool_ix, run)


def test_single_characters_find_every_article_containing_them(pool_ix, pool_docs):
    rng = random.Random(1)
    chars: list[str] = ["〇", "囧", "鑫"]
    ordered = sorted(pool_docs)
    while len(chars) < 25:
        runs = HAN_RUN.findall(pool_docs[rng.choice(ordered)].stored["title"])
        if runs:
            run = rng.choice(runs)
            c = run[-1] if len(chars) % 2 else run[0]  # also the last character of a run
            if c not in chars and len(literal_set(pool_docs, c)) < 600:
                chars.append(c)
    for c in chars:
        expected = literal_set(pool_docs, c)
        assert expected, c
        assert all_urls(pool_ix, c) == expected, c


# ---------------------------------------------------------------- Latin words


@pytest.mark.parametrize("variants", [("covid", "COVID", "Covid", "ＣＯＶＩＤ"), ("G7", "g7", "Ｇ７"),
                                      ("iPhone", "IPHONE", "iphone"), ("5G", "5g")])
def test_latin_words_are_case_insensitive_whole_tokens(pool_ix, pool_docs, variants):
    rx = latin_re(variants[0])
    expected = {u for u, d in pool_docs.items() if rx.search(d.joined)}
    if not expected:
        pytest.skip(f"{variants[0]} is not in the pool")
    for v in variants:
        assert all_urls(pool_ix, v) == expected, v


def test_covid_19_needs_both_tokens(pool_ix, pool_docs):
    covid, nineteen = latin_re("covid"), latin_re("19")
    got = all_urls(pool_ix, "COVID-19")
    assert got == all_urls(pool_ix, "covid-19")
    assert got <= all_urls(pool_ix, "covid")
    assert all(covid.search(pool_docs[u].joined) and nineteen.search(pool_docs[u].joined) for u in got)
    literal = {u for u, d in pool_docs.items() if re.search(r"(?<![0-9a-z])covid-19(?![0-9a-z])", d.joined)}
    assert literal and literal <= got


# ---------------------------------------------------------------- filters


def published_of(doc: Doc) -> datetime | None:
    p = doc.stored.get("published")
    return None if p is None else p.replace(tzinfo=timezone.utc)


def test_since_until_one_day_inclusive(pool_ix, pool_docs):
    day = date(2020, 7, 1)
    expected = {u for u in all_urls(pool_ix, "疫情") if published_of(pool_docs[u]).date() == day}
    assert expected
    forms = [
        dict(since="2020-07-01", until="2020-07-01"),
        dict(since=day, until=day),
        dict(since=datetime(2020, 7, 1, tzinfo=timezone.utc),
             until=datetime(2020, 7, 1, 23, 59, 59, 999999, tzinfo=timezone.utc)),
        dict(since="2020-07-01T00:00:00", until="2020-07-01T23:59:59.999999"),
        dict(since="2020-07-01T00:00:00Z", until="2020-07-01T23:59:59.999999Z"),
        dict(since="2020-07-01T08:00:00+08:00", until="2020-07-02T07:59:59.999999+08:00"),
    ]
    for kw in forms:
        hits = pool_ix.search("疫情", limit=0, **kw)
        assert all(h.published.date() == day for h in hits)
        assert all_urls(pool_ix, "疫情", **kw) == expected, kw


def test_since_and_until_each_bound_one_side(pool_ix, pool_docs):
    everything = all_urls(pool_ix, "疫情")
    cut = datetime(2020, 7, 10, tzinfo=timezone.utc)
    after = all_urls(pool_ix, "疫情", since="2020-07-10")
    before = all_urls(pool_ix, "疫情", until="2020-07-09")
    assert after and before
    assert all(published_of(pool_docs[u]) >= cut for u in after)
    assert all(published_of(pool_docs[u]) < cut for u in before)
    assert after | before == everything and not after & before
    assert pool_ix.search("疫情", since="2020-07-10", until="2020-07-09").total == 0


def test_exact_datetime_bounds_are_inclusive(pool_ix):
    h = pool_ix.search("疫情", limit=1)[0]
    got = pool_ix.search("疫情", limit=0, since=h.published, until=h.published)
    assert h.url in all_urls(pool_ix, "疫情", since=h.published, until=h.published)
    assert all(x.published == h.published for x in got)
    assert h.url in all_urls(pool_ix, "疫情", since=h.published.isoformat(), until=h.published.isoformat())


def test_sources_filter_case_insensitive_and_counts_add_up(pool_ix, pool_docs):
    total = pool_ix.search("疫情", limit=1).total
    per_source = {}
    for name in pool_ix.stats().sources:
        hits = pool_ix.search("疫情", limit=0, sources=[name])
        assert all(h.source == name for h in hits)
        assert all(pool_docs[u].stored["source"] == name for u in all_urls(pool_ix, "疫情", sources=[name]))
        per_source[name] = hits.total
    assert sum(per_source.values()) == total
    assert pool_ix.search("疫情", sources=["rfi"]).total == per_source["RFI"]
    assert pool_ix.search("疫情", sources=["Rfi"]).total == per_source["RFI"]
    both = pool_ix.search("疫情", limit=0, sources=["rfi", "DW"])
    assert both.total == per_source["RFI"] + per_source["DW"]
    assert {h.source for h in both} == {"RFI", "DW"}
    assert pool_ix.search("疫情", sources=["nosuchoutlet"]).total == 0


def test_filters_combine(pool_ix):
    hits = pool_ix.search("疫情", limit=0, since="2020-07-01", until="2020-07-07", sources=["bbc"])
    assert hits.total
    assert all(h.source == "BBC" and date(2020, 7, 1) <= h.published.date() <= date(2020, 7, 7) for h in hits)


# ---------------------------------------------------------------- ordering


def test_sort_by_date_is_newest_first(pool_ix):
    hits = pool_ix.search("covid", limit=0, sort="date")
    dates = [h.published for h in hits]
    assert len(dates) > 100
    assert dates == sorted(dates, reverse=True)
    assert all_urls(pool_ix, "covid", sort="date") == all_urls(pool_ix, "covid")


def _dated_and_undated(tmp_path):
    return build(tmp_path, {
        "a.md": dict(title="卡塔尔旧闻", url="https://www.dw.com/zh/a/1", lead="卡塔尔导语。", body="卡塔尔正文一。",
                     published=datetime(2020, 7, 1, 10, tzinfo=timezone.utc)),
        "b.md": dict(title="卡塔尔无日期", url="https://www.dw.com/zh/b/2", lead="卡塔尔导语。", body="卡塔尔正文二。"),
        "c.md": dict(title="卡塔尔新闻", url="https://www.dw.com/zh/c/3", lead="卡塔尔导语。", body="卡塔尔正文三。",
                     published=datetime(2021, 7, 1, 10, tzinfo=timezone.utc)),
    })


def test_undated_articles_sort_last_and_have_no_date(tmp_path):
    # Regression: an undated match crashed search (OverflowError in the published column) before 8c269bc.
    ix = _dated_and_undated(tmp_path)
    hits = ix.search("卡塔尔", limit=0, sort="date")
    assert [h.url.rsplit("/", 1)[1] for h in hits] == ["3", "1", "2"]
    assert hits[2].published is None and hits[2].to_dict()["published"] is None
    assert ix.search("卡塔尔", limit=0).total == 3


def test_stats_with_an_undated_article(tmp_path):
    # Regression: stats() crashed (OverflowError) on an undated document before 8c269bc.
    ix = _dated_and_undated(tmp_path)
    stats = ix.stats()
    assert stats.documents == 3
    assert stats.first_published == datetime(2020, 7, 1, 10, tzinfo=timezone.utc)
    assert stats.last_published == datetime(2021, 7, 1, 10, tzinfo=timezone.utc)


def test_date_filters_leave_undated_articles_out(tmp_path):
    ix = _dated_and_undated(tmp_path)
    assert {h.url for h in ix.search("卡塔尔", limit=0, since="2000-01-01")} == {
        "https://www.dw.com/zh/a/1", "https://www.dw.com/zh/c/3"}


def test_seed_ranks_first_among_its_neighbours(seed_pool_ix):
    assert seed_pool_ix.stats().documents == 41
    hits = seed_pool_ix.search("卡塔尔 人质")
    assert hits[0].url == SEED_URL
    hits = seed_pool_ix.search("卡塔尔 OR 人质")
    assert hits.total > 5 and hits[0].url == SEED_URL
    assert hits[0].score > hits[1].score


def test_title_match_outranks_body_match(tmp_path):
    ix = build(tmp_path, {
        "a.md": dict(title="卡塔尔调解加沙冲突", url="https://www.rfi.fr/cn/a", lead="各方欢迎。", body="谈判继续进行。",
                     published=datetime(2020, 7, 1, tzinfo=timezone.utc)),
        "b.md": dict(title="加沙冲突调解进展", url="https://www.rfi.fr/cn/b", lead="各方欢迎。", body="卡塔尔谈判继续进行。",
                     published=datetime(2020, 7, 5, tzinfo=timezone.utc)),
    })
    assert urls(ix.search("卡塔尔")) == ["https://www.rfi.fr/cn/a", "https://www.rfi.fr/cn/b"]


def test_literal_run_outranks_its_words_apart(tmp_path):
    # Same words in both bodies (same BM25); only `a` holds the run literally; `b` is newer.
    ix = build(tmp_path, {
        "a.md": dict(title="中东消息之一", url="https://www.rfi.fr/cn/a", body="各方呼吁人道主义休战。援助进入加沙。",
                     published=datetime(2020, 7, 1, tzinfo=timezone.utc)),
        "b.md": dict(title="中东消息之二", url="https://www.rfi.fr/cn/b", body="人道主义援助进入加沙。各方呼吁休战。",
                     published=datetime(2020, 7, 5, tzinfo=timezone.utc)),
    })
    assert urls(ix.search("人道主义休战")) == ["https://www.rfi.fr/cn/a", "https://www.rfi.fr/cn/b"]
    assert urls(ix.search('"人道主义休战"')) == ["https://www.rfi.fr/cn/a"]


def test_recency_breaks_ties(tmp_path):
    # Same tokens, different order; the newer one is indexed second, so document order can't explain it.
    ix = build(tmp_path, {
        "a.md": dict(title="中东消息之一", url="https://www.rfi.fr/cn/a", body="卡塔尔继续调解。各方表示欢迎。",
                     published=datetime(2020, 7, 1, tzinfo=timezone.utc)),
        "b.md": dict(title="中东消息之二", url="https://www.rfi.fr/cn/b", body="各方表示欢迎。卡塔尔继续调解。",
                     published=datetime(2020, 7, 5, tzinfo=timezone.utc)),
    })
    hits = ix.search("卡塔尔")
    assert hits[0].score == hits[1].score
    assert urls(hits) == ["https://www.rfi.fr/cn/b", "https://www.rfi.fr/cn/a"]


def test_copies_of_one_story_fold_into_one_hit(tmp_path):
    """Issue 4: the same story saved under two URLs is one hit listing the other URL."""
    body = "卡塔尔外交部周三表示，调解工作仍在继续。\n各方对此表示欢迎。"
    ix = build(tmp_path, {
        "a.md": dict(title="卡塔尔继续调解", url="https://www.dw.com/zh/a/1", body=body,
                     published=datetime(2020, 7, 1, tzinfo=timezone.utc)),
        "b.md": dict(title="卡塔尔继续调解（更新）", url="https://www.dw.com/zh/a/2", body=body,
                     published=datetime(2020, 7, 2, tzinfo=timezone.utc)),
        "c.md": dict(title="卡塔尔另一则消息", url="https://www.dw.com/zh/c/3", body="卡塔尔天气炎热。",
                     published=datetime(2020, 7, 3, tzinfo=timezone.utc)),
    })
    hits = ix.search("调解", limit=0)
    assert hits.total == 1
    assert {hits[0].url, *hits[0].duplicates} == {"https://www.dw.com/zh/a/1", "https://www.dw.com/zh/a/2"}
    assert ix.search("卡塔尔").total == 2
    assert all_urls(ix, "卡塔尔") == {"https://www.dw.com/zh/a/1", "https://www.dw.com/zh/a/2", "https://www.dw.com/zh/c/3"}


# ---------------------------------------------------------------- get and stats


@pytest.mark.parametrize("form", [
    SEED_URL,
    unquote(SEED_URL),
    SEED_URL.lower(),  # lower-case %-escapes
    SEED_URL.replace("https://www.rfi.fr/cn/", "http://www.rfi.fr//cn/"),
    unquote(SEED_URL).replace("https://www.rfi.fr/cn/", "http://www.rfi.fr//cn/"),
    "HTTPS://WWW.RFI.FR/cn/" + SEED_URL.split("/cn/", 1)[1],
    SEED_URL + "#top",
])
def test_get_accepts_every_form_of_the_url(seed_ix, form):
    article = seed_ix.get(form)
    assert article is not None
    assert (article.url, article.title, article.source, article.path) == (SEED_URL, SEED_TITLE, "RFI", SEED.name)
    assert article.published == datetime(2023, 11, 9, 10, 15, 1, tzinfo=timezone.utc)
    assert article.lead.startswith("卡塔尔正在谈判释放哈马斯")
    assert "Nicolas Keraudren" in article.body
    d = article.to_dict()
    assert set(d) == {"url", "title", "published", "source", "path", "lead", "body"}
    assert d["published"] == "2023-11-09T10:15:01+00:00"
    orjson.dumps(d)


def test_get_unknown_url_is_none(seed_ix):
    assert seed_ix.get("https://www.rfi.fr/cn/nothing/here") is None


def test_get_non_url_is_none(seed_ix):
    # Regression: this raised ValueError from normalize_url before 8c269bc.
    assert seed_ix.get("not a url") is None


def test_get_on_the_pool_matches_stored_documents(pool_ix, pool_docs):
    for url in random.Random(2).sample(sorted(pool_docs), 20):
        a = pool_ix.get(url)
        assert a is not None and a.url == url
        assert a.title == pool_docs[url].stored["title"] and a.body == pool_docs[url].stored["body"]
        assert pool_ix.get(unquote(url)).url == url


def test_stats_of_the_pool(pool_ix, pool_index, pool_docs):
    stats = pool_ix.stats()
    assert stats.documents == pool_index[1].documents == len(pool_docs)
    expected: dict[str, int] = {}
    for d in pool_docs.values():
        expected[d.stored["source"]] = expected.get(d.stored["source"], 0) + 1
    assert stats.sources == expected
    assert sum(stats.sources.values()) == stats.documents
    published = [d.stored["published"] for d in pool_docs.values() if d.stored.get("published")]
    assert stats.first_published == min(published).replace(tzinfo=timezone.utc)
    assert stats.last_published == max(published).replace(tzinfo=timezone.utc)
    assert stats.size_bytes > 1_000_000
    assert stats.last_update.tzinfo is not None
    assert stats.last_update <= datetime.now(timezone.utc) + timedelta(minutes=1)
    d = stats.to_dict()
    orjson.dumps(d)
    assert d["documents"] == stats.documents


def test_stats_of_the_seed(seed_ix):
    stats = seed_ix.stats()
    assert (stats.documents, stats.sources) == (1, {"RFI": 1})
    assert stats.first_published == stats.last_published == datetime(2023, 11, 9, 10, 15, 1, tzinfo=timezone.utc)


# ---------------------------------------------------------------- errors


def test_open_missing_folder(tmp_path):
    with pytest.raises(IndexNotFound):
        search.open_index(tmp_path / "nope")


def test_open_folder_that_is_not_an_index(tmp_path):
    (tmp_path / "notes.txt").write_text("not an index")
    with pytest.raises((IndexNotFound, IndexUnusable)):
        search.open_index(tmp_path)
    with pytest.raises((IndexNotFound, IndexUnusable)):
        search.open_index(tmp_path / "notes.txt")


def test_open_damaged_index(seed_corpus, tmp_path):
    update_index([seed_corpus], tmp_path / "index")
    (tmp_path / "index" / "CURRENT").write_text("gen-gone\n")
    with pytest.raises(IndexUnusable):
        search.open_index(tmp_path / "index")


def test_open_index_stays_searchable_while_the_index_changes(seed_corpus, tmp_path):
    update_index([seed_corpus], tmp_path / "index")
    ix = search.open_index(tmp_path / "index")
    write_article(seed_corpus, "more.md", title="人质获释", url="https://www.dw.com/zh/more/a-1",
                  body="三名人质周三获释。", published=datetime(2020, 7, 1, tzinfo=timezone.utc))
    update_index([seed_corpus], tmp_path / "index")
    assert ix.search("人质").total == 1  # its snapshot
    ix.refresh()
    assert ix.search("人质").total == 2
    update_index([seed_corpus], tmp_path / "index", rebuild=True)
    hits = ix.search("人质", limit=0)  # the replaced generation is still readable
    assert hits.total == 2 and all(h.snippet for h in hits)
    assert ix.get(SEED_URL).title == SEED_TITLE
    ix.close()


def test_refresh_after_rebuild_sees_the_new_generation(seed_corpus, tmp_path):
    update_index([seed_corpus], tmp_path / "index")
    ix = search.open_index(tmp_path / "index")
    write_article(seed_corpus, "more.md", title="人质获释", url="https://www.dw.com/zh/more/a-1",
                  body="三名人质周三获释。", published=datetime(2020, 7, 1, tzinfo=timezone.utc))
    update_index([seed_corpus], tmp_path / "index", rebuild=True)
    ix.refresh()
    assert ix.search("人质").total == 2


def test_errors_are_exported_from_search():
    assert search.IndexNotFound is IndexNotFound and search.QuerySyntaxError is QuerySyntaxError


@pytest.mark.parametrize("query", [
    '"卡塔尔', "“卡塔尔", "(卡塔尔", "卡塔尔)", "（卡塔尔", "titel:卡塔尔", "foo:bar", "，。！？", "...",
    "x" * 10_000, "卡" * 10_000, "", "   ", "-卡塔尔", "卡塔尔 OR", "卡塔尔 -",
])
def test_bad_queries_raise_query_syntax_error(seed_ix, query):
    with pytest.raises(QuerySyntaxError) as info:
        seed_ix.search(query)
    assert isinstance(info.value.position, int)
    assert f"position {info.value.position}" in str(info.value)


def test_bad_dates_raise_query_syntax_error(seed_ix):
    for kw in (dict(since="yesterday"), dict(until="2020-13-01"), dict(since="2020/07/01")):
        with pytest.raises(QuerySyntaxError):
            seed_ix.search("卡塔尔", **kw)


# ---------------------------------------------------------------- page furniture


@pytest.mark.parametrize("headline", ["直升机航母", "马克龙爱丽舍宫", "同一主题"])
def test_related_articles_aside_is_not_searchable(seed_ix, headline):
    raw = SEED.read_text(encoding="utf-8")
    assert headline in raw  # it is in the file, in the aside
    assert seed_ix.search(headline).total == 0
    assert seed_ix.search("人道主义休战").total == 1  # while the article itself is found
