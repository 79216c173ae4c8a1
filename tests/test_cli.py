"""The `zhsearch` command line (issue 3 "CLI", and the index command's exit codes of issue 2).

Most tests drive `search.cli.main` with click's CliRunner (not a terminal, so "piped"); a few run
the installed `zhsearch` script in a real subprocess, on a pipe and on a pseudo-terminal, for what
only a real process shows (tty detection, TZ, tracebacks on stderr).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from urllib.parse import unquote

import orjson
import pytest
from click.testing import CliRunner

import search
from indexer import update_index
from search.cli import main

from .conftest import ROOT, SEED
from .test_search import HIT_KEYS, OPTIONAL_HIT_KEYS, SEED_TITLE, SEED_URL, write_article

ZHSEARCH = Path(sys.executable).parent / "zhsearch"
ESC = "\x1b"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SUMMARY = re.compile(
    r"^(\d+) files seen: (\d+) new, (\d+) changed, (\d+) removed, (\d+) duplicates, (\d+) skipped; "
    r"(\d+) documents in the index \(\d+\.\d s\)$", re.M)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """The user's own settings must not leak into the tests."""
    for name in ("ZHSEARCH_INDEX", "NO_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)


def run(*args, env=None):
    result = CliRunner().invoke(main, [str(a) for a in args], env=env)
    # An uncaught exception is a traceback for the user: never acceptable.
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        pytest.fail("uncaught exception:\n" + "".join(traceback.format_exception(result.exception)))
    return result


def run_process(*args, env_extra=None, tty=False, cwd=None):
    """The real `zhsearch` script: (exit code, stdout, stderr) as text."""
    if not ZHSEARCH.exists():
        pytest.skip(f"{ZHSEARCH} is not installed")
    env = {k: v for k, v in os.environ.items() if k not in ("ZHSEARCH_INDEX", "NO_COLOR", "COLUMNS")}
    env.update(env_extra or {})
    cmd = [str(ZHSEARCH), *map(str, args)]
    if not tty:
        p = subprocess.run(cmd, capture_output=True, env=env, cwd=cwd, timeout=120)
        return p.returncode, p.stdout.decode(), p.stderr.decode()
    import pty

    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE, env=env, cwd=cwd)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    err = p.stderr.read()
    p.wait(timeout=120)
    return p.returncode, b"".join(chunks).decode(), err.decode()


def json_lines(text: str) -> list[dict]:
    return [orjson.loads(line) for line in text.splitlines()]


def width(text: str) -> int:
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "FW" else 1 for c in text)


@pytest.fixture
def seed_index(seed_corpus, tmp_path) -> Path:
    update_index([seed_corpus], tmp_path / "index")
    return tmp_path / "index"


OTHER_URL = "https://www.dw.com/zh/qatar/a-1"
UNDATED_URL = "https://www.dw.com/zh/undated/a-2"


@pytest.fixture(scope="module")
def mini_index(tmp_path_factory) -> Path:
    """The seed and one more 卡塔尔 article that never mentions 美国."""
    tmp = tmp_path_factory.mktemp("mini")
    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / SEED.name).write_bytes(SEED.read_bytes())
    write_article(corpus, "other.md", title="卡塔尔外交部发表声明", url=OTHER_URL, lead="卡塔尔呼吁各方克制。",
                  body="多哈方面表示将继续调解。", published=datetime(2020, 7, 1, 10, tzinfo=timezone.utc))
    update_index([corpus], tmp / "index")
    return tmp / "index"


# ---------------------------------------------------------------- zhsearch index


def test_index_prints_one_summary_line_and_exits_0(seed_corpus, tmp_path):
    r = run("index", seed_corpus, "--index", tmp_path / "index")
    assert r.exit_code == 0
    (m,) = SUMMARY.finditer(r.output)
    assert m.groups() == ("1", "1", "0", "0", "0", "0", "1")
    assert search.open_index(tmp_path / "index").search("人质").total == 1
    r = run("index", seed_corpus, "--index", tmp_path / "index")
    assert r.exit_code == 0
    assert SUMMARY.search(r.output).groups() == ("1", "0", "0", "0", "0", "0", "1")
    r = run("index", seed_corpus, "--index", tmp_path / "index", "-q")
    assert r.exit_code == 0 and not SUMMARY.search(r.output)


def test_index_strict_exits_65_when_a_file_is_skipped(seed_corpus, tmp_path):
    bad = seed_corpus / "broken.md"
    bad.write_text("no header here\n", encoding="utf-8")
    r = run("index", seed_corpus, "--index", tmp_path / "a")
    assert r.exit_code == 0
    assert "broken.md" in r.stderr and "warning" in r.stderr
    assert SUMMARY.search(r.output).group(6) == "1"
    r = run("index", seed_corpus, "--index", tmp_path / "b", "--strict")
    assert r.exit_code == 65
    assert "broken.md" in r.stderr
    r = run("index", seed_corpus, "--index", tmp_path / "c", "--strict", "-q")
    assert r.exit_code == 65


def test_index_without_bad_files_strict_exits_0(seed_corpus, tmp_path):
    assert run("index", seed_corpus, "--index", tmp_path / "index", "--strict").exit_code == 0


def test_second_indexer_exits_75_naming_the_pid(seed_index, seed_corpus):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys\nfrom indexer.lock import WriteLock\nl = WriteLock(sys.argv[1])\nl.acquire(0)\n"
         "print('locked', flush=True)\nsys.stdin.read()\nl.release()\n", str(seed_index)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        r = run("index", seed_corpus, "--index", seed_index, "--wait", "0")
        assert r.exit_code == 75
        assert len(r.stderr.strip().splitlines()) == 1
        assert re.search(rf"\bpid {holder.pid}\b", r.stderr), r.stderr
        # Searching is not blocked by a writer.
        assert run("search", "人质", "--index", seed_index).exit_code == 0
    finally:
        holder.communicate("", timeout=30)
    assert run("index", seed_corpus, "--index", seed_index, "--wait", "0").exit_code == 0


def test_index_honours_zhsearch_index(seed_corpus, tmp_path):
    target = tmp_path / "from-env"
    r = run("index", seed_corpus, env={"ZHSEARCH_INDEX": str(target)})
    assert r.exit_code == 0
    assert search.open_index(target).stats().documents == 1
    r = run("search", "人质", "--json", env={"ZHSEARCH_INDEX": str(target)})
    assert r.exit_code == 0
    assert [d["url"] for d in json_lines(r.stdout)] == [SEED_URL]
    r = run("stats", "--json", env={"ZHSEARCH_INDEX": str(target)})
    assert r.exit_code == 0 and orjson.loads(r.stdout)["documents"] == 1


# ---------------------------------------------------------------- search: exit codes and messages


def test_search_with_hits_exits_0_and_shows_rank_title_date_outlet_url_snippet(seed_index):
    r = run("search", "卡塔尔", "人质", "--index", seed_index)
    assert r.exit_code == 0
    out = r.stdout
    assert ESC not in out
    lines = out.splitlines()
    assert re.fullmatch(r"\s*1\. " + SEED_TITLE, lines[0])
    assert "RFI" in lines[1] and unquote(SEED_URL) in lines[1]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d [+-]\d{4}", lines[1])
    text = "".join(line.strip() for line in lines[2:])
    assert "卡塔尔正在谈判释放哈马斯在加沙地带扣押的约十名人质" in text


def test_search_without_hits_exits_1_with_a_message_on_stderr(seed_index):
    r = run("search", "直升机航母", "--index", seed_index)
    assert r.exit_code == 1
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "直升机航母" in r.stderr
    r = run("search", "直升机航母", "--index", seed_index, "--json")
    assert r.exit_code == 1 and r.stdout == ""


def test_offset_past_the_end_exits_1(seed_index):
    r = run("search", "人质", "--index", seed_index, "--offset", "5")
    assert r.exit_code == 1 and r.stdout == "" and r.stderr.strip()


@pytest.mark.parametrize("args", [
    ['"卡塔尔'], ["(卡塔尔"], ["卡塔尔)"], ["titel:卡塔尔"], ["，。！"], ["x" * 10_000], ["-卡塔尔"],
    ["卡塔尔", "--since", "yesterday"], ["卡塔尔", "--until", "2020-13-01"],
])
def test_broken_query_exits_2_with_one_line(seed_index, args):
    r = run("search", *args, "--index", seed_index)
    assert r.exit_code == 2
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.startswith("zhsearch: ") and "Traceback" not in r.stderr


def test_query_error_names_the_position(seed_index):
    r = run("search", "卡塔尔", '"人质', "--index", seed_index)
    assert r.exit_code == 2 and "position 4" in r.stderr


@pytest.mark.parametrize("command", [["search", "卡塔尔"], ["stats"], ["show", SEED_URL]])
def test_missing_index_exits_2_with_one_line(tmp_path, command):
    r = run(*command, "--index", tmp_path / "nope")
    assert r.exit_code == 2
    assert len(r.stderr.strip().splitlines()) == 1 and str(tmp_path / "nope") in r.stderr


def test_default_index_folder_missing_exits_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("search", "卡塔尔")
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1


def test_unusable_index_exits_2(seed_index):
    (seed_index / "CURRENT").write_text("gen-gone\n")
    r = run("search", "卡塔尔", "--index", seed_index)
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1


USAGE_ERRORS = [["search"], ["search", "卡塔尔", "-n", "abc"], ["search", "卡塔尔", "--sort", "newest"],
                ["search", "卡塔尔", "--color", "sometimes"], ["search", "卡塔尔", "-n", "-1"], ["nosuchcommand"]]


@pytest.mark.parametrize("args", USAGE_ERRORS)
def test_usage_errors_exit_2(seed_index, args):
    r = run(*args, "--index", seed_index) if args[0] == "search" else run(*args)
    assert r.exit_code == 2
    assert r.stdout == "" and "Traceback" not in r.output


@pytest.mark.parametrize("args", USAGE_ERRORS[:2])
def test_usage_errors_are_one_line(seed_index, args):
    r = run(*args, "--index", seed_index)
    assert r.exit_code == 2
    assert len(r.stderr.strip().splitlines()) == 1


def test_real_process_errors_have_no_traceback(seed_index, tmp_path):
    for args, code in ((["search", '"卡塔尔', "--index", seed_index], 2),
                       (["search", "卡塔尔", "--index", tmp_path / "nope"], 2),
                       (["search", "直升机航母", "--index", seed_index], 1),
                       (["show", "https://www.rfi.fr/cn/none", "--index", seed_index], 1)):
        rc, out, err = run_process(*args)
        assert rc == code, (args, err)
        assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err


# ---------------------------------------------------------------- search: JSON and colour


def test_json_lines_have_exactly_the_documented_keys(corpus_index, corpus_ix):
    r = run("search", "香港", "国安法", "--index", corpus_index, "--json", "-n", "25")
    assert r.exit_code == 0
    rows = json_lines(r.stdout)
    api = corpus_ix.search("香港 国安法", limit=25)
    assert len(rows) == 25
    for i, (row, hit) in enumerate(zip(rows, api), start=1):
        assert HIT_KEYS <= set(row) <= HIT_KEYS | OPTIONAL_HIT_KEYS
        assert row["rank"] == i
        assert row == orjson.loads(orjson.dumps(hit.to_dict()))
        assert datetime.fromisoformat(row["published"]).utcoffset().total_seconds() == 0
        for s, e in row["highlights"]:
            assert 0 <= s < e <= len(row["snippet"])
    assert ESC not in r.stdout


def test_json_all_hits_with_n_0(pool_index, pool_ix):
    r = run("search", "iPhone", "--index", pool_index[0], "--json", "-n", "0")
    assert r.exit_code == 0
    rows = json_lines(r.stdout)
    assert len(rows) == pool_ix.search("iphone").total > 1
    assert [row["rank"] for row in rows] == list(range(1, len(rows) + 1))


def test_no_escape_codes_when_piped_or_told_not_to(seed_index):
    plain = run("search", "卡塔尔", "--index", seed_index)
    assert plain.exit_code == 0 and ESC not in plain.stdout
    assert run("search", "卡塔尔", "--index", seed_index, "--color", "never").stdout == plain.stdout
    assert run("search", "卡塔尔", "--index", seed_index, env={"NO_COLOR": "1"}).stdout == plain.stdout


def test_color_always_highlights_the_query_words(seed_index):
    plain = run("search", "卡塔尔", "--index", seed_index).stdout
    r = run("search", "卡塔尔", "--index", seed_index, "--color", "always")
    assert r.exit_code == 0
    assert ESC in r.stdout
    assert ANSI.sub("", r.stdout) == plain
    # Each highlighted run is the query word, whole.
    marked = re.findall(r"\x1b\[1;31m(.*?)\x1b\[0m", r.stdout)
    assert marked and set(marked) == {"卡塔尔"}
    assert "\x1b[1;31m卡塔尔\x1b[0m" in r.stdout.splitlines()[0]  # the title's match too
    r = run("search", "卡塔尔", "--index", seed_index, "--color", "always", "--json")
    assert ESC not in r.stdout


def test_real_process_colour_only_on_a_terminal(seed_index):
    rc, out, _ = run_process("search", "卡塔尔", "--index", seed_index)
    assert rc == 0 and SEED_TITLE in out and ESC not in out
    rc, out, _ = run_process("search", "卡塔尔", "--index", seed_index, tty=True)
    assert rc == 0 and ESC in out
    rc, out, _ = run_process("search", "卡塔尔", "--index", seed_index, tty=True, env_extra={"NO_COLOR": "1"})
    assert rc == 0 and SEED_TITLE in out and ESC not in out
    rc, out, _ = run_process("search", "卡塔尔", "--index", seed_index, "--color", "never", tty=True)
    assert rc == 0 and SEED_TITLE in out and ESC not in out


def test_dates_local_in_human_output_utc_in_json(seed_index):
    env = {"TZ": "CST-8"}  # POSIX form of UTC+8: needs no tz database
    rc, out, _ = run_process("search", "人质", "--index", seed_index, env_extra=env)
    assert rc == 0 and "2023-11-09 18:15 +0800" in out
    rc, out, _ = run_process("search", "人质", "--index", seed_index, "--json", env_extra=env)
    assert rc == 0 and json_lines(out)[0]["published"] == "2023-11-09T10:15:01+00:00"


def test_human_output_is_aligned_and_fits_the_terminal(corpus_index):
    r = run("search", "香港", "国安法", "--index", corpus_index, "-n", "12", env={"COLUMNS": "60"})
    assert r.exit_code == 0
    blocks = [b for b in r.stdout.split("\n\n") if b.strip()]
    assert len(blocks) == 12
    indent = len("12") + 2
    for n, block in enumerate(blocks, start=1):
        lines = block.splitlines()
        assert lines[0].startswith(f"{n}.".rjust(indent - 1) + " ")
        for line in lines[1:]:
            assert line.startswith(" " * indent) and not line[indent].isspace(), line
        meta = next(i for i, line in enumerate(lines) if " · " in line)  # date · outlet · URL
        for i, line in enumerate(lines):
            # A URL cannot be wrapped: the meta line and "also at URL" lines of folded copies.
            if i != meta and not line[indent:].startswith("also at "):
                assert width(line) <= 60, line


# ---------------------------------------------------------------- search: options


def test_limit_and_offset(corpus_index, corpus_ix):
    args = ("search", "新冠", "疫苗", "--index", corpus_index, "--json")
    first = json_lines(run(*args, "-n", "3").stdout)
    second = json_lines(run(*args, "--limit", "3", "--offset", "3").stdout)
    assert [d["rank"] for d in first + second] == [1, 2, 3, 4, 5, 6]
    assert [d["url"] for d in first + second] == [h.url for h in corpus_ix.search("新冠 疫苗", limit=6)]


def test_since_and_until(corpus_index, corpus_ix):
    r = run("search", "疫情", "--index", corpus_index, "--json", "-n", "0",
            "--since", "2020-07-01", "--until", "2020-07-02")
    assert r.exit_code == 0
    rows = json_lines(r.stdout)
    assert rows and all("2020-07-01" <= row["published"][:10] <= "2020-07-02" for row in rows)
    assert len(rows) == corpus_ix.search("疫情", since="2020-07-01", until="2020-07-02").total
    r = run("search", "疫情", "--index", corpus_index, "--json", "-n", "0",
            "--since", "2020-07-01T13:00:00Z", "--until", "2020-07-01T13:59:59Z")
    rows = json_lines(r.stdout)
    assert rows and all(row["published"].startswith("2020-07-01T13:") for row in rows)


def test_source_is_repeatable_and_case_insensitive(pool_index, pool_ix):
    r = run("search", "疫情", "--index", pool_index[0], "--json", "-n", "0", "--source", "rfi", "--source", "Dw")
    assert r.exit_code == 0
    rows = json_lines(r.stdout)
    assert {row["source"] for row in rows} == {"RFI", "DW"}
    assert len(rows) == (pool_ix.search("疫情", sources=["RFI"]).total + pool_ix.search("疫情", sources=["DW"]).total)
    assert run("search", "疫情", "--index", pool_index[0], "--source", "nosuch").exit_code == 1


def test_sort_date(pool_index):
    r = run("search", "covid", "--index", pool_index[0], "--json", "-n", "50", "--sort", "date")
    dates = [datetime.fromisoformat(row["published"]) for row in json_lines(r.stdout)]
    assert len(dates) == 50 and dates == sorted(dates, reverse=True)
    relevance = [row["url"] for row in json_lines(run("search", "covid", "--index", pool_index[0], "--json",
                                                        "-n", "50").stdout)]
    assert relevance != [row["url"] for row in json_lines(r.stdout)]


@pytest.mark.parametrize("words", [["卡塔尔", "-美国"], ["-美国", "卡塔尔"], ["卡塔尔", "NOT", "美国"]])
def test_dash_word_is_a_negated_query_word_not_an_option(mini_index, words):
    both = json_lines(run("search", "卡塔尔", "--index", mini_index, "--json").stdout)
    assert {d["url"] for d in both} == {SEED_URL, OTHER_URL}
    r = run("search", *words, "--index", mini_index, "--json")
    assert r.exit_code == 0
    assert [d["url"] for d in json_lines(r.stdout)] == [OTHER_URL]


def test_explain_prints_the_parsed_query_and_still_searches(seed_index):
    r = run("search", "卡塔尔", "人质", "-美国", "--index", seed_index, "--explain", "--json")
    assert r.exit_code == 1  # the seed mentions 美国
    assert "NOT 美国" in r.stderr and "卡塔尔" in r.stderr
    r = run("search", "人道主义休战", "--index", seed_index, "--explain", "--json")
    assert r.exit_code == 0
    assert "人道主义" in r.stderr and "休战" in r.stderr
    assert [d["url"] for d in json_lines(r.stdout)] == [SEED_URL]


def test_search_with_an_undated_article(tmp_path):
    # Regression: a traceback (OverflowError) before 8c269bc.
    corpus = tmp_path / "corpus"
    write_article(corpus, "undated.md", title="卡塔尔无日期", url=UNDATED_URL, body="卡塔尔正文。")
    update_index([corpus], tmp_path / "index")
    r = run("search", "卡塔尔", "--index", tmp_path / "index", "--json")
    assert r.exit_code == 0
    assert json_lines(r.stdout)[0]["published"] is None


# ---------------------------------------------------------------- stats, show, --version


def test_stats(seed_index):
    r = run("stats", "--index", seed_index)
    assert r.exit_code == 0
    assert re.search(r"^documents\s+1$", r.stdout, re.M)
    assert re.search(r"^\s+RFI\s+1$", r.stdout, re.M)
    assert "2023-11-09" in r.stdout and re.search(r"\d (B|KB|MB|GB)\b", r.stdout)
    assert re.search(r"^last update\s+\d{4}-\d\d-\d\d \d\d:\d\d", r.stdout, re.M)


def test_stats_json(pool_index, pool_ix):
    r = run("stats", "--index", pool_index[0], "--json")
    assert r.exit_code == 0
    d = orjson.loads(r.stdout)
    stats = pool_ix.stats()
    assert d["documents"] == stats.documents == pool_index[1].documents
    assert d["sources"] == stats.sources and sum(d["sources"].values()) == d["documents"]
    assert datetime.fromisoformat(d["first_published"]) == stats.first_published
    assert datetime.fromisoformat(d["last_published"]) == stats.last_published
    assert d["size_bytes"] > 0 and datetime.fromisoformat(d["last_update"]).tzinfo is not None


@pytest.mark.parametrize("form", [SEED_URL, unquote(SEED_URL),
                                  unquote(SEED_URL).replace("https://www.rfi.fr/cn/", "http://www.rfi.fr//cn/")])
def test_show(seed_index, form):
    r = run("show", form, "--index", seed_index)
    assert r.exit_code == 0
    out = r.stdout
    assert out.splitlines()[0] == SEED_TITLE
    assert "RFI" in out and "2023-11-09" in out
    flat = "".join(out.split())
    assert "卡塔尔正在谈判释放哈马斯在加沙地带扣押的约十名人质" in flat  # lead
    assert "NicolasKeraudren" in flat  # body
    assert "直升机航母" not in out
    assert ESC not in out


def test_show_json(seed_index):
    r = run("show", unquote(SEED_URL), "--index", seed_index, "--json")
    assert r.exit_code == 0
    d = orjson.loads(r.stdout)
    assert set(d) == {"url", "title", "published", "source", "path", "lead", "body"}
    assert (d["url"], d["title"], d["published"], d["source"]) == (
        SEED_URL, SEED_TITLE, "2023-11-09T10:15:01+00:00", "RFI")


def test_show_unknown_url_exits_1(seed_index):
    r = run("show", "https://www.rfi.fr/cn/nothing", "--index", seed_index)
    assert r.exit_code == 1 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1


def test_show_non_url_exits_1_without_traceback(seed_index):
    # Regression: a ValueError traceback before 8c269bc.
    r = run("show", "not-a-url", "--index", seed_index)
    assert r.exit_code == 1 and len(r.stderr.strip().splitlines()) == 1


def test_version():
    r = run("--version")
    assert r.exit_code == 0
    assert version("zhsearch") in r.stdout and "zhsearch" in r.stdout


# ---------------------------------------------------------------- zhsearch timeline, --facets, --new (issue 13)


def _one_error_line(r, code: int) -> str:
    assert r.exit_code == code
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("zhsearch: ") and "Traceback" not in r.stderr
    return lines[0]


def test_timeline_json_adds_up_to_search_total(mini_index):
    total = len(run("search", "卡塔尔", "--index", mini_index, "-n", "0", "--json").stdout.splitlines())
    for by in ("day", "week", "month", "year"):
        r = run("timeline", "卡塔尔", "--index", mini_index, "--by", by, "--json")
        assert r.exit_code == 0
        rows = [orjson.loads(line) for line in r.stdout.splitlines()]
        assert all(list(row) == ["start", "count", "sources"] for row in rows)
        assert sum(row["count"] for row in rows) == total == 2
        assert rows[0]["sources"] == {"DW": 1} and rows[-1]["sources"] == {"RFI": 1}
    r = run("timeline", "卡塔尔", "--index", mini_index, "--by", "year", "--json")
    assert [orjson.loads(line)["start"] for line in r.stdout.splitlines()] == [
        "2020-01-01", "2021-01-01", "2022-01-01", "2023-01-01"]


def test_timeline_chart_fits_the_terminal(mini_index):
    for columns in (20, 60, 110):
        r = run("timeline", "卡塔尔", "--index", mini_index, env={"COLUMNS": str(columns)})
        assert r.exit_code == 0 and ESC not in r.stdout
        lines = r.stdout.splitlines()
        assert 1 < len(lines) <= 42
        assert all(len(line) <= columns for line in lines), lines
        assert lines[-1].startswith("2023") and lines[-1].endswith(" 1")  # the count at the end of the row
        assert "DW" in lines[0] and "RFI" in r.stdout.split("\n2020")[0]  # the legend first
    r = run("timeline", "卡塔尔", "--index", mini_index, "--color", "always")
    assert ESC in r.stdout
    r = run("timeline", "卡塔尔", "--index", mini_index, "--color", "auto", env={"NO_COLOR": "1"})
    assert ESC not in r.stdout


def test_timeline_bad_input_is_one_line(mini_index):
    assert "no hits" in _one_error_line(run("timeline", "香港", "--index", mini_index), 1)
    assert "--by" in _one_error_line(run("timeline", "卡塔尔", "--by", "hour", "--index", mini_index), 2)
    r = run("timeline", "卡塔尔", "--since", "2021-01-01", "--until", "2020-01-01", "--index", mini_index)
    assert "--since" in _one_error_line(r, 2)
    r = run("timeline", "香港", "--since", "2020-07-01", "--until", "2020-07-03", "--index", mini_index, "--json")
    assert r.exit_code == 1 and [orjson.loads(x)["count"] for x in r.stdout.splitlines()] == [0, 0, 0]


def test_search_facets(mini_index):
    r = run("search", "卡塔尔", "--index", mini_index, "--facets", "--json", "-n", "1")
    assert r.exit_code == 0
    (line,) = r.stdout.splitlines()
    assert orjson.loads(line) == {"total": 2, "sources": {"DW": 1, "RFI": 1},
                                  "months": {"2020-07": 1, "2023-11": 1}, "undated": 0}
    r = run("search", "卡塔尔", "--index", mini_index, "--facets", "-n", "1")
    assert r.exit_code == 0 and "outlets   DW 1, RFI 1" in r.stdout and "2020-07 1, 2023-11 1" in r.stdout
    r = run("search", "香港", "--index", mini_index, "--facets", "--json")
    assert r.exit_code == 1 and orjson.loads(r.stdout)["total"] == 0


def test_new_and_stats(tmp_path, seed_corpus):
    index_dir = tmp_path / "index"
    update_index([seed_corpus], index_dir)
    write_article(seed_corpus, "other.md", title="卡塔尔外交部发表声明", url=OTHER_URL, body="多哈方面表示将继续调解。")
    update_index([seed_corpus], index_dir)
    r = run("search", "卡塔尔", "--new", "--json", "--index", index_dir)
    assert r.exit_code == 0 and [orjson.loads(x)["url"] for x in r.stdout.splitlines()] == [OTHER_URL]
    r = run("timeline", "卡塔尔", "--new", "--json", "--index", index_dir)
    assert [orjson.loads(x)["count"] for x in r.stdout.splitlines()] == [1]
    stats = orjson.loads(run("stats", "--json", "--index", index_dir).stdout)
    assert (stats["last_added"], stats["last_changed"], stats["last_removed"]) == (1, 0, 0)
    assert stats["last_change"] and stats["documents"] == 2
    assert "1 added, 0 changed, 0 removed" in run("stats", "--index", index_dir).stdout


def test_new_on_an_index_from_before_asks_for_rebuild(seed_index):
    from indexer import store

    gen_dir = store.current_generation_dir(seed_index)
    meta = orjson.loads((gen_dir / store.META).read_bytes())
    del meta["changes"]
    (gen_dir / store.META).write_bytes(orjson.dumps(meta))
    assert run("search", "卡塔尔", "--index", seed_index).exit_code == 0
    for command in ("search", "timeline"):
        line = _one_error_line(run(command, "卡塔尔", "--new", "--index", seed_index), 2)
        assert "zhsearch index --rebuild" in line


def test_an_index_without_documents_has_no_hits(tmp_path):
    """A corpus of only skipped files makes an index without a segment (Whoosh's EmptyReader)."""
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "broken.md").write_text("no header here\n", encoding="utf-8")
    assert run("index", tmp_path / "corpus", "--index", tmp_path / "index", "-q").exit_code == 0
    for args in (["search", "中国"], ["search", "中国", "--facets"], ["timeline", "中国"], ["similar", "--text", "中国政府"]):
        r = run(*args, "--index", tmp_path / "index")
        assert r.exit_code == 1 and "no hits" in r.stderr, args
    r = run("search", "中国", "--facets", "--json", "--index", tmp_path / "index")
    assert orjson.loads(r.stdout) == {"total": 0, "sources": {}, "months": {}, "undated": 0}
