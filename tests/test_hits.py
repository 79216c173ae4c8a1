"""Lazy hits (issue 16): `Hits` makes each `Hit` as it is iterated and a `Hit` its snippet on
first use, so `-n 0` streams; what callers see is unchanged."""

from __future__ import annotations

import re
import subprocess

import orjson
import pytest

import search
from search.values import Hit, Hits

from .test_cli import ZHSEARCH, json_lines, run, run_process


def test_a_lazy_page_equals_the_same_hits_made_at_once(pool_ix):
    full = pool_ix.search("中国", limit=0)
    top = pool_ix.search("中国", limit=10)
    assert full.total == len(full) > 1000
    assert [h.to_dict() for h in top] == [full[i].to_dict() for i in range(10)]
    assert full[-1].rank == full.total and full[-1] == full[len(full) - 1]
    assert [h.rank for h in full[3:6]] == [4, 5, 6]
    with pytest.raises(IndexError):
        full[len(full)]


def test_snippets_are_made_on_first_use_and_kept(pool_ix):
    hit = pool_ix.search("国安法 抗议", limit=1)[0]
    assert hit._marks is None  # nothing made yet: -n 0 pays for a snippet only when printed
    marked = {hit.snippet[s:e] for s, e in hit.highlights}
    assert marked <= {"国安法", "抗议"} and marked
    assert hit.title_highlights and hit._marks is not None
    assert hit.to_dict()["snippet"] == hit.snippet


def test_ready_made_hits_still_work():
    h = Hit(rank=1, url="https://x/1", title="标题", published=None, source="RFI", path="a.md", score=1.0,
            snippet="正文", highlights=[(0, 2)])
    hits = Hits(total=1, hits=[h], query="正文")
    assert list(hits) == [h] and len(hits) == 1 and hits[0].snippet == "正文"
    assert hits.hits == [h]
    assert orjson.loads(orjson.dumps(h.to_dict()))["highlights"] == [[0, 2]]


def test_made_hits_outlive_their_index_unmade_ones_raise_a_typed_error(pool_index):
    ix = search.open_index(pool_index[0])
    hits = ix.search("香港", limit=5)
    first = hits[0]
    ix.close()
    assert first.snippet  # the stored fields were read when the hit was made
    with pytest.raises(search.IndexClosed):
        hits[3]


def test_cli_streams_all_hits_and_a_closed_pipe_ends_it_quietly(pool_index, pool_ix):
    every = json_lines(run("search", "中国", "-n", "0", "--json", "--index", pool_index[0]).output)
    assert [d["url"] for d in every] == [h.url for h in pool_ix.search("中国", limit=0)]
    if not ZHSEARCH.exists():
        pytest.skip(f"{ZHSEARCH} is not installed")
    p = subprocess.run(f"'{ZHSEARCH}' search 中国 -n 0 --json --index '{pool_index[0]}' | head -1; "
                       "exit ${PIPESTATUS[0]}", shell=True, executable="/bin/bash", capture_output=True, timeout=120)
    assert p.returncode == 141 and p.stderr == b""  # death by SIGPIPE, as grep (issue 17)
    assert orjson.loads(p.stdout) == every[0]


def test_human_output_streams_and_still_tells_the_page(pool_index, pool_ix):
    total = pool_ix.search("中国", limit=3).total
    code, out, err = run_process("search", "中国", "-n", "3", "--offset", "2", "--index", pool_index[0])
    assert code == 0 and err.strip() == f"3-5 of {total} hits"
    assert re.findall(r"^(\d+)\. ", out, re.M) == ["3", "4", "5"]
