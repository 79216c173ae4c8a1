"""The Flask app: routes, the security headers every response carries, errors as JSON or HTML.

Pages (server-rendered, usable without JavaScript; templates autoescape):
    /                     the search page: ?q= and the filters, so a result is a link to share
    /article?url=&q=      one article, the query's words marked
JSON (the CLI's `--json` shapes, see views.py):
    /api/search /api/article /api/stats /api/facets /api/timeline
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
from flask import Flask, Response, abort, render_template, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from indexer.errors import QuerySyntaxError, ZhsearchError

from ..facets import AUTO, BY
from . import views
from .indexes import Indexes
from .markup import article_href, marked, page_href, readable_url, safe_href, utc
from .params import MAX_QUERY_CHARS, SearchParams, search_params
from .timeline import Chart, svg

HERE = Path(__file__).parent

SECURITY_HEADERS = {
    # every script and style comes from /static: no inline code, nothing from other origins
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a click to an outlet does not tell it what was searched
}
LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "::1", "[::1]"]


def create_app(index: str | Path | Indexes, *, workers: int = 2, hosts: list[str] | None = None) -> Flask:
    """The app over an index folder (or an `Indexes` to share). `hosts`: the names requests
    may carry in their Host header (a server on the loopback answers only to its own names,
    so that a web page elsewhere cannot reach it by DNS rebinding); None: any."""
    indexes = index if isinstance(index, Indexes) else Indexes(index, workers)
    app = Flask(__name__, static_folder=str(HERE / "static"), template_folder=str(HERE / "templates"))
    app.jinja_env.globals.update(marked=marked, safe_href=safe_href, readable_url=readable_url, utc=utc,
                                 page_href=page_href, article_href=article_href, timeline_svg=timeline_svg,
                                 MAX_QUERY_CHARS=MAX_QUERY_CHARS)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True

    allowed_hosts = None if hosts is None else {h.strip("[]").lower() for h in hosts}

    @app.before_request
    def read_only():
        if request.method not in ("GET", "HEAD"):
            abort(405, valid_methods=["GET", "HEAD"])
        if allowed_hosts is not None and host_name(request.host) not in allowed_hosts:
            abort(400, "unknown Host: this server answers to the loopback's names only")

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.get("/")
    def page():
        p = search_params(request.args)
        if not p.q.strip():
            return render_template("home.html", p=p, stats=indexes.call(views.stats))
        try:
            found = indexes.call(lambda ix: views.find(ix, p, counts=True))
        except QuerySyntaxError as exc:
            return render_template("search.html", p=p, found=None, error=exc), 400
        return render_template("search.html", p=p, found=found, error=None)

    @app.get("/article")
    def article():
        url, q = request.args.get("url", ""), request.args.get("q", "")
        reading = indexes.call(lambda ix: views.read(ix, url, q[:MAX_QUERY_CHARS]))
        if reading is None:
            abort(404, f"no indexed article has the URL {url}")
        return render_template("article.html", p=_just_q(q), r=reading)

    @app.get("/api/search")
    def api_search():
        p = search_params(request.args)
        return _json(indexes.call(lambda ix: views.find(ix, p).to_dict()))

    @app.get("/api/article")
    def api_article():
        url = request.args.get("url", "")
        found = indexes.call(lambda ix: ix.get(url))
        if found is None:
            abort(404, f"no indexed article has the URL {url}")
        return _json(found.to_dict())

    @app.get("/api/stats")
    def api_stats():
        return _json(indexes.call(views.stats).to_dict())

    @app.get("/api/facets")
    def api_facets():
        p = search_params(request.args)
        return _json(indexes.call(lambda ix: views.facets(ix, p)))

    @app.get("/api/timeline")
    def api_timeline():
        p = search_params(request.args)
        by = request.args.get("by") or AUTO
        if by not in (AUTO, *BY):
            raise QuerySyntaxError(f"by must be one of {', '.join((AUTO, *BY))}, not {by[:40]!r}")
        return _json(indexes.call(lambda ix: views.timeline(ix, p, by)))

    @app.errorhandler(QuerySyntaxError)
    def bad_query(exc: QuerySyntaxError):
        return _error(400, str(exc), position=exc.position)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        response = _error(exc.code or 500, exc.description or exc.name)
        if exc.code == 405:
            response.headers["Allow"] = "GET, HEAD"
        return response

    @app.errorhandler(ZhsearchError)
    def index_unavailable(exc: ZhsearchError):
        # the index is missing, damaged or being replaced by an older release's: the server
        # stays up and answers again once `zhsearch index` has made it usable
        _log(f"zhsearch: error: {request.method} {request.path}: {exc}")
        return _error(503, str(exc))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        _log(f"zhsearch: error: {request.method} {request.path}: {exc!r}")  # one line, never to the client
        return _error(500, "internal error (the server's log has one line about it)")

    return app


def _just_q(q: str) -> SearchParams:
    """The search box of a page that is not a search (an article, an error): the query only."""
    return SearchParams(q=q[:MAX_QUERY_CHARS])


def timeline_svg(chart: Chart, p: SearchParams):
    """The result's timeline, each bar a link to this search narrowed to the bar's period."""
    return svg(chart, lambda bar: page_href(p.link(since=bar.since, until=bar.until, offset=0)))


def host_name(host: str) -> str:
    """The name of a Host header, without its port: `[::1]:8700` -> `::1`."""
    if host.startswith("["):
        return host[1:host.find("]")].lower()
    return host.rpartition(":")[0].lower() if host.count(":") == 1 else host.lower()


def _json(obj: dict, status: int = 200) -> Response:
    # orjson, as the CLI's --json: the same bytes for the same value
    return Response(orjson.dumps(obj), status=status, mimetype="application/json")


def _error(status: int, message: str, **extra) -> Response:
    if request.path.startswith("/api/"):
        return _json({"error": message, **extra}, status)
    try:
        q = request.args.get("q", "")[:MAX_QUERY_CHARS]
        body = render_template("error.html", status=status, message=message, p=_just_q(q))
    except Exception:  # an error page must not fail itself
        body = str(escape(f"{status} {message}"))
    return Response(body, status=status, mimetype="text/html")


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


__all__ = ["create_app", "SECURITY_HEADERS", "LOOPBACK_HOSTS"]
