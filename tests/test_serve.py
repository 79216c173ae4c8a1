"""`zhsearch serve` (issue 15): the page and the JSON API through Flask's test client on the
demo corpus and the pool, then a real `zhsearch serve` process over HTTP for what only a
process shows (the address it prints, Ctrl-C, the port, refreshing while an indexer commits).
The browser's view is in test_serve_browser.py."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import orjson
import pytest
from markupsafe import escape

import search
from indexer import update_index
from search import query as ql
from search.serve import create_app
from search.serve.app import LOOPBACK_HOSTS, SECURITY_HEADERS
from search.serve.markup import marked, safe_href
from search.serve.params import MAX_LIMIT, MAX_QUERY_CHARS

from .conftest import CORPUS, ROOT, SEED
from .test_search import SEED_TITLE, SEED_URL, write_article

ZHSEARCH = Path(sys.executable).parent / "zhsearch"
XSS = "<script>alert(1)</script>"
XSS_URL = "https://evil.example/xss"
COPY_URLS = ("https://www.dw.com/zh/a/1", "https://www.dw.com/zh/a/2")


def api(client, path: str, **args):
    """(status, JSON) of a GET; `path` may carry repeated arguments (?source=a&source=b)."""
    sep = "&" if "?" in path else "?"
    r = client.get(path + (sep + urlencode(args) if args else ""))
    return r.status_code, orjson.loads(r.data)


@pytest.fixture(scope="module")
def corpus_client(corpus_index):
    return create_app(corpus_index, workers=2, hosts=LOOPBACK_HOSTS).test_client()


@pytest.fixture(scope="module")
def pool_client(pool_index):
    return create_app(pool_index[0], workers=2).test_client()


@pytest.fixture(scope="module")
def xss_index(tmp_path_factory) -> Path:
    """The seed, an article whose title and text are a script, and one whose URL is not http(s)."""
    tmp = tmp_path_factory.mktemp("xss")
    corpus = tmp / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    when = datetime(2023, 11, 10, tzinfo=timezone.utc)
    # entities in the file's HTML are the article's text: a literal <script> in title, lead and body
    script = "&lt;script&gt;alert(1)&lt;/script&gt;"
    write_article(corpus, "xss.md", title=XSS, url=XSS_URL, lead=f"卡塔尔 {script}", body=f"人质 {script}\n第二段",
                  published=when)
    body = "调解工作仍在继续。\n各方对此表示欢迎。"  # one story saved under two URLs
    write_article(corpus, "copy1.md", title="多哈继续调解", url=COPY_URLS[0], body=body, published=when)
    write_article(corpus, "copy2.md", title="多哈继续调解（更新）", url=COPY_URLS[1], body=body,
                  published=when + timedelta(hours=1))
    update_index([corpus], tmp / "index")
    return tmp / "index"


@pytest.fixture(scope="module")
def xss_client(xss_index):
    return create_app(xss_index, workers=1).test_client()


# ---------------------------------------------------------------- the JSON API


def test_api_search_is_the_cli_json(corpus_client, corpus_ix):
    status, body = api(corpus_client, "/api/search", q="新冠 疫苗", limit=5, offset=2)
    hits = corpus_ix.search("新冠 疫苗", limit=5, offset=2)
    assert status == 200
    assert set(body) == {"total", "hits"}
    assert body["total"] == hits.total > 7
    assert body["hits"] == [h.to_dict() for h in hits]


def test_api_search_filters_as_the_api(pool_client, pool_ix):
    args = dict(q="香港", since="2020-07-01", until="2020-07-31", sort="date", limit=20)
    status, body = api(pool_client, "/api/search?source=rfi&source=DW", **args)
    hits = pool_ix.search("香港", since="2020-07-01", until="2020-07-31", sources=["rfi", "DW"], sort="date", limit=20)
    assert status == 200 and body["total"] == hits.total > 0
    assert [h["url"] for h in body["hits"]] == [h.url for h in hits]
    assert {h["source"] for h in body["hits"]} <= {"RFI", "DW"}
    _, unfolded = api(pool_client, "/api/search", q="香港", fold="0")
    assert unfolded["total"] == pool_ix.search("香港", fold=False).total > pool_ix.search("香港").total


def test_no_hits_is_200_with_an_empty_list(corpus_client):
    assert api(corpus_client, "/api/search", q="xyzzyplugh") == (200, {"total": 0, "hits": []})


@pytest.mark.parametrize("q", ['卡塔尔 "人质', "卡塔尔 (人质", "titel:卡塔尔", "-卡塔尔", "卡塔尔 OR", "。，"])
def test_bad_query_is_400_with_the_parsers_position(corpus_client, q):
    with pytest.raises(search.QuerySyntaxError) as err:
        ql.parse(q)
    status, body = api(corpus_client, "/api/search", q=q)
    assert status == 400
    assert body == {"error": str(err.value), "position": err.value.position}
    r = corpus_client.get("/", query_string={"q": q})  # the page says it too, the query kept in the box
    assert r.status_code == 400 and str(escape(str(err.value))) in r.text


def test_query_length_and_limit_are_capped(corpus_client):
    status, body = api(corpus_client, "/api/search", q="中" * (MAX_QUERY_CHARS + 1))
    assert status == 400 and body["position"] == MAX_QUERY_CHARS
    status, body = api(corpus_client, "/api/search", q="的", limit=10_000)
    assert status == 200 and body["total"] > MAX_LIMIT and len(body["hits"]) == MAX_LIMIT
    for bad in ({"limit": "-1"}, {"limit": "ten"}, {"offset": "100001"}, {"sort": "random"}, {"fold": "maybe"},
                {"since": "yesterday"}):
        status, body = api(corpus_client, "/api/search", q="的", **bad)
        assert status == 400 and body["error"], bad


def test_api_article_is_show_json(xss_client, xss_index):
    with search.open_index(xss_index) as ix:
        expected = ix.get(SEED_URL).to_dict()
    assert api(xss_client, "/api/article", url=SEED_URL) == (200, expected)
    assert api(xss_client, "/api/article", url=SEED_URL.replace("https://", "http://"))[1] == expected
    status, body = api(xss_client, "/api/article", url="https://www.rfi.fr/cn/no-such-article")
    assert status == 404 and "no indexed article" in body["error"]
    assert xss_client.get("/article", query_string={"url": "not a url"}).status_code == 404


def test_api_stats_facets_timeline_are_the_cli_json(pool_client, pool_ix):
    assert api(pool_client, "/api/stats") == (200, pool_ix.stats().to_dict())
    assert api(pool_client, "/api/facets", q="国安法") == (200, pool_ix.facets("国安法").to_dict())
    status, body = api(pool_client, "/api/timeline?source=rfi", q="国安法", by="week")
    assert status == 200 and body["by"] == "week"
    assert body["periods"] == [p.to_dict() for p in pool_ix.timeline("国安法", by="week", sources=["rfi"])]
    status, body = api(pool_client, "/api/timeline", q="国安法")
    assert body["by"] in ("day", "week", "month", "year")
    assert sum(p["count"] for p in body["periods"]) == pool_ix.search("国安法").total
    assert api(pool_client, "/api/timeline", q="国安法", by="hour")[0] == 400


# ---------------------------------------------------------------- safety


@pytest.mark.parametrize("path", ["/", "/?q=新冠", "/api/search?q=新冠", "/api/stats", "/static/style.css",
                                  "/no-such-page", "/api/no-such", "/api/search?q=%22"])
def test_every_response_carries_the_security_headers(corpus_client, path):
    r = corpus_client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert r.headers[name] == value, (path, name)
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_only_get_and_head(corpus_client, method):
    r = corpus_client.open("/api/search?q=新冠", method=method)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    head = corpus_client.head("/api/search?q=新冠")
    assert head.status_code == 200 and head.data == b""


@pytest.mark.parametrize("path", ["/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd",
                                  "/static/..%2f..%2fetc%2fpasswd", "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                                  "/static/..%5c..%5cetc%5cpasswd", "/static//etc/passwd", "/static/%2fetc%2fpasswd",
                                  "/static/../app.py", "/static/..%2fapp.py", "/static/../templates/base.html"])
def test_only_the_static_folder_is_served(corpus_client, path):
    r = corpus_client.get(path, follow_redirects=True)  # `//` is merged into `/` by a redirect first
    assert r.status_code == 404, path
    assert b"root:" not in r.data and b"import" not in r.data and b"{%" not in r.data


def test_static_files_are_served(corpus_client):
    css, js = corpus_client.get("/static/style.css"), corpus_client.get("/static/zhsearch.js")
    assert css.status_code == js.status_code == 200
    assert css.mimetype == "text/css" and "javascript" in js.mimetype
    assert b"PingFang SC" in css.data and b"Noto Sans CJK SC" in css.data


def test_an_article_titled_script_shows_as_text(xss_client):
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for path, args in (("/", {"q": "卡塔尔"}), ("/", {"q": "alert"}), ("/article", {"url": XSS_URL, "q": "alert"})):
        r = xss_client.get(path, query_string=args)
        assert r.status_code == 200, (path, args)
        assert "<script>alert" not in r.text and escaped in r.text.replace("<mark>", "").replace("</mark>", "")
        # the only script on a page is zhsearch's own file, never inline
        assert re.findall(r"<script\b[^>]*>", r.text) == ['<script src="/static/zhsearch.js" defer>']
    assert api(xss_client, "/api/article", url=XSS_URL)[1]["title"] == XSS  # JSON keeps the text as it is


def test_a_query_holding_a_script_is_escaped(xss_client):
    q = '人质 "<script>alert(1)</script>" <img src=x onerror=alert(2)>'
    for args in ({"q": q}, {"q": q, "source": "<b>RFI</b>"}, {"q": q + '"'}):
        r = xss_client.get("/", query_string=args)
        assert r.status_code in (200, 400)
        assert "<script>alert" not in r.text and "<img src=x" not in r.text and "<b>RFI" not in r.text
        assert "&lt;script&gt;" in r.text or "&#34;&lt;script&gt;" in r.text
    r = xss_client.get("/article", query_string={"url": f"https://x.example/{XSS}", "q": XSS})
    assert r.status_code == 404 and "<script>alert" not in r.text


def test_links_go_only_to_http_addresses(xss_index):
    """The reader takes only http(s) addresses; the page would not link another one either."""
    from flask import render_template

    from search.serve.params import SearchParams
    from search.serve.views import Found

    assert safe_href("https://www.rfi.fr/cn/a") and safe_href("http://x.example/")
    for bad in ("javascript:alert(1)", "JavaScript://x.example/%0Aalert(1)", "data:text/html,<script>", "httpx://x/",
                "//x.example/", "/relative", "https:///nohost", "vbscript:x"):
        assert safe_href(bad) is None, bad
    assert str(marked("<a>卡塔尔</a>", [(3, 6)])) == "&lt;a&gt;<mark>卡塔尔</mark>&lt;/a&gt;"
    bad_url = "javascript://evil.example/%0Aalert(1)"
    hit = search.Hit(1, bad_url, "卡塔尔", None, "RFI", "x.md", 1.0, "卡塔尔 人质", [(0, 3)], [(0, 3)],
                     ["javascript:alert(2)", "https://ok.example/copy"])
    app = create_app(xss_index, workers=1)
    with app.test_request_context("/?q=卡塔尔"):
        html = render_template("search.html", p=SearchParams(q="卡塔尔"), error=None,
                               found=Found(SearchParams(q="卡塔尔"), 1, [hit]))
    assert "evil.example" in html and "javascript:alert(2)" in html  # shown as text...
    assert not re.search(r'href="\s*javascript', html, re.I)  # ...never as a link
    assert 'href="https://ok.example/copy"' in html


def test_a_loopback_server_answers_only_to_its_own_names(corpus_client):
    assert corpus_client.get("/api/stats", headers={"Host": "127.0.0.1:8700"}).status_code == 200
    assert corpus_client.get("/api/stats", headers={"Host": "[::1]:8700"}).status_code == 200
    assert corpus_client.get("/api/stats", headers={"Host": "localhost"}).status_code == 200
    r = corpus_client.get("/api/stats", headers={"Host": "attacker.example"})  # DNS rebinding
    assert r.status_code == 400 and b"documents" not in r.data


def test_an_unexpected_error_is_500_without_a_traceback(corpus_index, monkeypatch, capsys):
    from search.serve import views

    def broken(*args, **kwargs):
        raise RuntimeError("secret detail /home/someone")

    monkeypatch.setattr(views, "find", broken)
    client = create_app(corpus_index, workers=1).test_client()
    status, body = api(client, "/api/search", q="新冠")
    assert status == 500 and "secret" not in body["error"] and "Traceback" not in body["error"]
    r = client.get("/", query_string={"q": "新冠"})
    assert r.status_code == 500 and "secret" not in r.text and "Traceback" not in r.text
    err = capsys.readouterr().err
    assert err.count("secret detail") == 2 and "Traceback" not in err
    assert all(line.startswith("zhsearch: error: GET /") for line in err.splitlines())


def test_a_missing_index_is_503_until_it_exists(tmp_path):
    client = create_app(tmp_path / "index", workers=1).test_client()
    status, body = api(client, "/api/stats")
    assert status == 503 and "no index" in body["error"]
    (tmp_path / "corpus").mkdir()
    shutil.copy(SEED, tmp_path / "corpus")
    update_index([tmp_path / "corpus"], tmp_path / "index")
    assert api(client, "/api/stats")[1]["documents"] == 1


def test_a_request_that_a_rebuild_cuts_short_is_answered_from_the_new_generation(tmp_path):
    """stats reads the generation's folder: a --rebuild that swaps and deletes it in the middle
    of a request fails that read, and the request is answered again after a refresh."""
    from search.serve.indexes import Indexes

    (tmp_path / "corpus").mkdir()
    shutil.copy(SEED, tmp_path / "corpus")
    update_index([tmp_path / "corpus"], tmp_path / "index")
    indexes = Indexes(tmp_path / "index", 1)
    assert indexes.call(lambda ix: ix.stats().documents) == 1
    calls = []

    def rebuilt_meanwhile(ix):
        if not calls:
            write_article(tmp_path / "corpus", "more.md", title="卡塔尔", url="https://www.dw.com/zh/more/a-3")
            update_index([tmp_path / "corpus"], tmp_path / "index", rebuild=True)
        calls.append(ix.gen_dir)
        return ix.stats().documents

    assert indexes.call(rebuilt_meanwhile) == 2
    assert len(calls) == 2 and calls[0] != calls[1] and not calls[0].exists()
    indexes.close()


# ---------------------------------------------------------------- the page


def test_page_lists_highlighted_hits_with_filters_timeline_and_pages(pool_client, pool_ix):
    r = pool_client.get("/", query_string={"q": "国安法"})
    assert r.status_code == 200
    html = r.text
    hits = pool_ix.search("国安法")
    assert f'<span id="total">{hits.total:,}</span>' in html
    assert html.count('<li class="hit">') == 10 and "<mark>国安法</mark>" in html
    assert f'href="{hits[0].url}"' in html.replace("&amp;", "&")
    facets = pool_ix.facets("国安法")
    for name, n in facets.sources.items():  # outlet filters with their counts, each a link
        assert re.search(rf'data-source="{name}"[^>]*>.*?<span class="count">{n:,}</span>', html, re.S), name
    assert "/?q=%E5%9B%BD%E5%AE%89%E6%B3%95&amp;offset=10" in html  # the next page
    bars = re.findall(r'<a href="(/\?[^"]*since=[^"]*)" class="bar"', html)
    assert bars and all("until=" in b for b in bars)
    assert "<svg" in html and "style=" not in html  # the CSP allows no inline style
    # the same page narrowed to one outlet: its count becomes the total
    name, n = next(iter(facets.sources.items()))
    r = pool_client.get("/", query_string={"q": "国安法", "source": name})
    assert f'<span id="total">{n:,}</span>' in r.text


def test_folded_copies_are_listed_under_their_story(xss_client):
    r = xss_client.get("/", query_string={"q": "title:多哈"})
    assert '<span id="total">1</span>' in r.text and r.text.count('<li class="hit">') == 1
    copies = r.text[r.text.index('class="copies"'):]
    shown = [u for u in COPY_URLS if f'href="{u}"' in copies]
    assert len(shown) == 1  # the copy that is not the hit itself, linked, with its own article view
    assert f"/article?url={quote(shown[0], safe='')}" in copies or "/article?url=https" in copies
    assert xss_client.get("/", query_string={"q": "title:多哈", "fold": "0"}).text.count('<li class="hit">') == 2


def test_article_view_marks_the_query_words(xss_client):
    r = xss_client.get("/article", query_string={"url": SEED_URL, "q": "卡塔尔 人质"})
    assert r.status_code == 200
    assert f"<h1><mark>卡塔尔</mark>斡旋哈马斯释放<mark>人质</mark></h1>" in r.text
    assert r.text.count("<mark>") > 4
    plain = xss_client.get("/article", query_string={"url": SEED_URL})
    assert "<mark>" not in plain.text and SEED_TITLE in plain.text
    bad = xss_client.get("/article", query_string={"url": SEED_URL, "q": '"卡塔尔'})
    assert bad.status_code == 200 and "quote" in bad.text  # the article, and what is wrong with the query


def test_home_page_without_a_query(corpus_client, corpus_ix):
    r = corpus_client.get("/")
    assert r.status_code == 200 and f"{corpus_ix.stats().documents:,} articles" in r.text
    assert 'id="q"' in r.text and 'name="q"' in r.text


# ---------------------------------------------------------------- a real `zhsearch serve` process


class Server:
    """`zhsearch serve --port 0` in a subprocess: the address it printed, requests, Ctrl-C."""

    def __init__(self, index: Path, *args: str, cwd: Path | None = None, argv: list[str] | None = None, env=None):
        cmd = argv or [str(ZHSEARCH)]
        self.proc = subprocess.Popen([*cmd, "serve", "--index", str(index), "--port", "0", *args], cwd=cwd, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.started = time.monotonic()
        line = self.proc.stdout.readline()
        m = re.search(r"at (http://\S+/) ", line)
        if not m:
            self.proc.kill()
            raise AssertionError(f"no address printed: {line!r} {self.proc.stderr.read()}")
        self.url = m.group(1)
        parts = urlsplit(self.url)
        self.port = parts.port
        self.host = "127.0.0.1" if parts.hostname == "0.0.0.0" else parts.hostname  # requests stay on the loopback

    def get(self, path: str, timeout: float = 30) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request("GET", path)  # sent as it is: no client-side normalising of ../
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def json(self, path: str):
        status, data = self.get(path)
        return status, orjson.loads(data)

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        return self.proc.returncode, err

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _installed():
    if not ZHSEARCH.exists():
        pytest.skip(f"{ZHSEARCH} is not installed")


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def test_serve_prints_its_address_answers_and_stops_on_ctrl_c(corpus_index):
    _installed()
    with Server(corpus_index) as srv:
        assert srv.host == "127.0.0.1"
        status, body = srv.json("/api/search?q=" + quote("新冠"))
        assert status == 200 and body["total"] > 0
        for path in ("/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd", "/static/..%2f..%2fetc%2fpasswd",
                     "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/static/../app.py", "/../../etc/passwd"):
            status, data = srv.get(path)
            assert status in (404, 400) and b"root:" not in data, path
        code, err = srv.stop()
    assert code == 130
    assert err.strip().splitlines()[-1] == "zhsearch: interrupted" and "Traceback" not in err
    assert _port_free(srv.host, srv.port)


def test_serve_on_another_host_warns(corpus_index):
    _installed()
    with Server(corpus_index, "--host", "0.0.0.0") as srv:
        assert srv.json("/api/stats")[0] == 200
        code, err = srv.stop()
    assert "anyone" in err and "network" in err and code == 130


def test_port_in_use_and_missing_index_are_one_line(corpus_index, tmp_path):
    _installed()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        p = subprocess.run([ZHSEARCH, "serve", "--index", corpus_index, "--port", str(port)], capture_output=True,
                           text=True, timeout=60)
    assert p.returncode == 69 and len(p.stderr.strip().splitlines()) == 1 and "cannot listen" in p.stderr
    p = subprocess.run([ZHSEARCH, "serve", "--index", tmp_path / "none"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stderr.strip().splitlines() == [f"zhsearch: no index at {tmp_path / 'none'} "
                                                                  f"(run `zhsearch index` first)"]
    p = subprocess.run([ZHSEARCH, "serve", "--help"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "69" in p.stdout and "130" in p.stdout


def test_serve_sees_new_commits_and_answers_through_a_rebuild(tmp_path):
    """An indexer's commit shows within seconds without a restart; a --rebuild never interrupts."""
    _installed()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for p in sorted(CORPUS.glob("voa-*.md"))[:120]:
        shutil.copy(p, corpus)
    index = tmp_path / "index"
    update_index([corpus], index)
    with Server(index) as srv:
        before = srv.json("/api/stats")[1]["documents"]
        shutil.copy(SEED, corpus / SEED.name)
        subprocess.run([ZHSEARCH, "index", corpus, "--index", index, "-q"], check=True, timeout=120)
        deadline = time.monotonic() + 10
        while srv.json("/api/stats")[1]["documents"] != before + 1:
            assert time.monotonic() < deadline, "the new generation was not served within 10 s"
            time.sleep(0.2)
        assert srv.json("/api/search?q=" + quote("卡塔尔 人质"))[1]["hits"][0]["url"] == SEED_URL
        rebuild = subprocess.Popen([ZHSEARCH, "index", corpus, "--index", index, "--rebuild", "-q"])
        statuses = []
        while rebuild.poll() is None or len(statuses) < 5:
            statuses.append(srv.get("/api/search?q=" + quote("卡塔尔 人质"))[0])
            statuses.append(srv.get("/api/stats")[0])
            time.sleep(0.05)
        assert rebuild.wait() == 0
        time.sleep(2.5)  # past the refresh interval: the rebuilt generation is served
        assert srv.json("/api/stats")[1]["documents"] == before + 1
        code, err = srv.stop()
    assert set(statuses) == {200}, (statuses, err)
    assert code == 130 and "error" not in err, err


def test_the_wheel_carries_templates_and_static_files(tmp_path, corpus_index):
    """`pip install .` elsewhere, then `zhsearch serve` from another folder: page and static files."""
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "wheel", ROOT],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {p.stderr.strip().splitlines()[-1:]}")
    (wheel,) = (tmp_path / "wheel").glob("zhsearch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("search/serve/templates/base.html", "search/serve/templates/search.html",
                 "search/serve/static/style.css", "search/serve/static/zhsearch.js", "indexer/codec/w3.py"):
        assert name in names, name
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site, wheel], check=True,
                   capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    argv = [sys.executable, "-c", "import search, sys; from search.cli import main; "
                                  "assert search.__file__.startswith(sys.argv.pop(1)), search.__file__; main()", str(site)]
    with Server(corpus_index, cwd=elsewhere, argv=argv, env=env) as srv:
        for path in ("/?q=" + quote("新冠"), "/static/style.css", "/static/zhsearch.js"):
            assert srv.get(path)[0] == 200, path
        assert srv.stop()[0] == 130


def test_the_warm_up_loads_jiebas_dictionary(corpus_index):
    """A cold `zhsearch search` cuts its query without rjieba's dictionary (indexer/jieba_words.py);
    the server loads it while it warms up, so that no request pays its load."""
    probe = (
        "import sys\n"
        "from search.serve.indexes import Indexes\n"
        f"indexes = Indexes({str(corpus_index)!r}, 2)\n"
        "assert 'rjieba' not in sys.modules\n"
        "indexes.warm_up()\n"
        "print('rjieba' in sys.modules, indexes.call(lambda ix: ix.search('新冠 疫苗').total) > 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.split() == ["True", "True"]
