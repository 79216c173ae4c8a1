"""The speed bench's own logic (bench/): goal verdicts, the daily-run limit, replicas' URLs,
the FTS5 peer's folder-by-folder reading, and the scratch folder's deletion on SIGTERM.
The figures themselves come from `make bench` / `make bench-scale`, never from a test."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import daily, goals
from bench.corpora import with_new_url, write_replicas
from bench.speed import parse_scales
from indexer.reader import parse_article

from .conftest import ROOT, SEED


def test_scales_as_make_passes_them():
    assert parse_scales("1 20 100") == [1, 20, 100]
    assert parse_scales(" 1,5 ") == [1, 5]
    with pytest.raises(Exception):
        parse_scales("0 5")


def test_daily_limit_is_ten_seconds_or_three_medians():
    v = daily.verdict([1.0, 1.2, 1.1, 9.9, 1.3])
    assert v["limit_s"] == 10.0 and v["no_run_over_limit"] and v["slowest_run"] == 4
    v = daily.verdict([1.0, 1.2, 1.1, 61.0, 1.3])
    assert not v["no_run_over_limit"] and v["max_s"] == 61.0
    v = daily.verdict([5.0, 6.0, 7.0, 19.0])  # median 6.5: limit 19.5
    assert v["limit_s"] == 19.5 and v["no_run_over_limit"]


def _verdicts(results: dict) -> dict[tuple[str, str], goals.Verdict]:
    return {(v.section, v.label): v for v in goals.check(results)}


def test_goals_read_each_section_and_say_what_was_not_run():
    results = {
        "scale": {"x20": {"p95_ms": 25.0, "cold_s": 0.7, "build": {"tree_mb": 480.0},
                          "ratios": {"size_zhsearch/fts5": 1.4},
                          "meta": {"started": "2026-11-29T20:00:00+0000", "load_before": 0.5, "load_after": 1.1}}},
        "daily": {"median_s": 1.3, "max_s": 61.0, "ratios": {"p95_daily/fresh": 1.1, "size_daily/fresh": 1.5}},
    }
    v = _verdicts(results)
    assert v["scale/x20", "x20 warm p95"].met is True
    assert v["scale/x20", "x20 cold search"].met is False
    assert v["scale/x20", "x20 index size / FTS5+jieba's"].met is True
    assert v["scale/x20", "x20 warm p95"].load == "0.5-1.1"
    assert v["daily", "daily: slowest run <= max(10 s, 3x median)"].limit == 10.0
    assert v["daily", "daily: slowest run <= max(10 s, 3x median)"].met is False
    assert v["daily", "daily: index size / fresh build's"].met is False
    x100 = [x for (section, _), x in v.items() if section == "scale/x100"]
    assert x100 and all(x.met is None and x.value is None for x in x100)
    assert all(x.met is None for (section, _), x in v.items() if section == "main")


def test_replicas_are_the_same_articles_under_new_urls(tmp_path):
    pool = SEED.parent
    copies = write_replicas([SEED], pool, tmp_path / "replicas", 2)
    original = parse_article(SEED.read_bytes(), SEED.name)
    urls = {original.url}
    for folder in copies:
        copy = parse_article((folder / SEED.name).read_bytes(), SEED.name)
        assert copy.body == original.body and copy.title == original.title
        assert copy.url.split("/")[2] == original.url.split("/")[2]  # same host: same outlet
        urls.add(copy.url)
    assert len(urls) == 3
    assert with_new_url(b"no link here", "x") == b"no link here"


def test_fts5_peer_reads_folder_by_folder(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import speed_child
    finally:
        sys.path.remove(str(ROOT / "bench"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / SEED.name).write_bytes(SEED.read_bytes())
    copies = write_replicas([corpus / SEED.name], corpus, tmp_path / "replicas", 2)
    stream = speed_child._Stream([corpus, *copies])
    urls = [r.url for r in stream]
    assert len(urls) == len(set(urls)) == stream.count == 3  # the seed and its two copies
    assert stream.parse_s > 0


def test_scratch_folder_is_deleted_on_sigterm(tmp_path):
    script = ("import sys, time; from pathlib import Path; from bench.corpora import Scratch\n"
              f"with Scratch(Path({str(tmp_path)!r})) as work:\n"
              "    (work / 'index').mkdir(); (work / 'index' / 'seg').write_bytes(b'x' * 1000)\n"
              "    print(work, flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    work = Path(proc.stdout.readline().strip())
    assert (work / "index" / "seg").is_file()
    proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.returncode not in (None, 0)
    assert not work.exists()
    assert list(tmp_path.iterdir()) == []


def test_scratch_keeps_running_on_sighup_under_nohup(tmp_path):
    script = ("import signal, time; from pathlib import Path; from bench.corpora import Scratch\n"
              "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
              f"with Scratch(Path({str(tmp_path)!r})) as work:\n"
              "    print(work, flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    work = Path(proc.stdout.readline().strip())
    proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert proc.poll() is None and work.is_dir()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    assert not work.exists()


def test_queries_on_a_built_index_report_every_figure(corpus_index, tmp_path):
    from bench import index_queries

    out = tmp_path / "figures.json"
    assert index_queries.main([str(corpus_index), "--reps", "1", "--cold-runs", "1", "--json", str(out)]) == 0
    res = json.loads(out.read_text(encoding="utf-8"))
    assert len(res["warm"]["per_query_ms"]) == 34 and not res["warm"]["errors"]
    assert res["cold_search_s"] > 0 and res["stats_s"] > 0 and res["similar"]["similar_ms"] > 0
    assert index_queries.main([str(tmp_path / "none")]) == 2
