"""The `zhsearch` command: a thin click layer over the `indexer` and `search` APIs.

Imports of Whoosh and jieba are deferred into the commands, so `--help` and
`--version` stay instant.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys

import click

from indexer.cli import EXIT_INTERRUPTED, EXIT_USAGE, CliError, cli_errors, index_command, index_option

EXIT_NO_HITS = 1


def json_option(func):
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output (JSON).")(func)


def filter_options(func):
    """What narrows the matches of `search` and `timeline` alike, declared once."""
    for option in reversed((
        click.option("--since", metavar="DATE", help="Published on or after DATE (YYYY-MM-DD or ISO 8601, UTC)."),
        click.option("--until", metavar="DATE", help="Published on or before DATE (inclusive)."),
        click.option("--source", "sources", multiple=True, metavar="NAME",
                     help="Only this outlet (repeatable): RFI, DW, …"),
        click.option("--new", is_flag=True,
                     help="Only the articles the last `zhsearch index` run that changed the index added or changed."),
        click.option("--no-fold", is_flag=True,
                     help="Count every copy of a story saved under several URLs as its own match."),
    )):
        func = option(func)
    return func


def color_option(func):
    return click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
                        show_default=True,
                        help="Colour on a terminal (auto: unless NO_COLOR is set).")(func)


def _width() -> int:
    """Columns for human output: $COLUMNS when set (also when piped), else the terminal's, else 100."""
    return shutil.get_terminal_size((100, 24)).columns


def _die_of_sigpipe() -> None:
    """End as grep does when its reader goes away: killed by SIGPIPE (the shell says 141).

    Python ignores SIGPIPE, so a closed pipe surfaces as BrokenPipeError, which click would turn
    into exit 1, the "no hits" code. Restoring the default action only here, not at start-up,
    leaves a program that calls `main` in-process (CliRunner) with Python's own handling.
    """
    # Nothing may be flushed to the closed pipe at exit if the signal were somehow blocked.
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError, AttributeError):
            pass
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGPIPE)
    sys.exit(128 + signal.SIGPIPE)


@contextlib.contextmanager
def _ends_quietly_on_closed_pipe():
    try:
        try:
            yield
        finally:
            # Output still buffered would meet a closed pipe only at interpreter exit,
            # as an "Exception ignored" message and status 120.
            sys.stdout.flush()
    except BrokenPipeError:
        _die_of_sigpipe()


class _Group(click.Group):
    # Both places where click writes or runs a command: make_context prints --help and
    # --version, invoke runs the subcommands (their own --help included).
    def make_context(self, *args, **kwargs):
        with _ends_quietly_on_closed_pipe():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        with _ends_quietly_on_closed_pipe():
            return super().invoke(ctx)

    def main(self, *args, **kwargs):
        # click turns Ctrl-C outside a command's own handler into "Aborted!" and exit 1.
        try:
            return super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as exc:
            # One line, as every other error: the usage block is what --help is for.
            command = exc.ctx.command_path if exc.ctx else "zhsearch"
            click.echo(f"zhsearch: {exc.format_message()} (see `{command} --help`)", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except (KeyboardInterrupt, click.Abort):
            click.echo("zhsearch: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)


def printable(text: str) -> str:
    """Text safe to echo to a terminal: control characters and undecodable bytes escaped."""
    return "".join(c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else ascii(c)[1:-1] for c in text)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zhsearch", prog_name="zhsearch")
def main():
    """Chinese full-text search over a folder of fetched news articles."""


main.add_command(index_command)


def results_options(func):
    """The options of every command that lists hits (search, similar), declared once."""
    for option in reversed((
        click.option("-n", "--limit", type=click.IntRange(min=0), default=10, show_default=True,
                     help="Hits to show; 0 shows all, each printed as it is ranked."),
        click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many hits (paging)."),
        json_option,
        filter_options,
        color_option,
    )):
        func = option(func)
    return func


# Unknown "options" are query words: `zhsearch search 特朗普 -中国` excludes 中国.
@main.command("search", context_settings={"ignore_unknown_options": True})
@click.argument("query", nargs=-1, required=True, type=click.UNPROCESSED)
@index_option
@results_options
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--facets", is_flag=True,
              help="After the hits, count every match by outlet and month (with --json: only the counts).")
@click.option("--explain", is_flag=True, help="Print how the query is parsed and analysed, then search.")
@click.option("--any", "match_any", is_flag=True,
              help="Relax the top-level AND: hits need only --min-match of the query's parts (each word "
                   "of a bare word run, each quoted phrase, group or field term) and rank by how well they match.")
@click.option("--min-match", type=click.FloatRange(0.0, 1.0), metavar="FRACTION",
              help="With --any (implies it): the fraction of parts a hit must match, rounded up "
                   "[default: 0.3].")
@click.option("--variants", "variants_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Name variants (one group per line, variants separated by spaces) added to the index's "
                   "for this search.")
@click.option("--no-variants", is_flag=True, help="Search without expanding name variants (特朗普 finds no 川普).")
def search_command(query, index_dir, limit, offset, as_json, since, until, sources, new, no_fold, color, sort, facets,
                   explain, match_any, min_match, variants_file, no_variants):
    """Search the index. Words must all match; OR, -word / NOT word, "exact phrase",
    title: lead: body: and parentheses work as in most search engines.

    Exit codes: 0 hits found, 1 no hits, 2 a bad query, a missing or unreadable index, a usage error.
    """
    from . import open_index
    from .render import write_ndjson

    text = " ".join(query)
    with cli_errors(), open_index(index_dir) as ix:
        variants = None
        if variants_file is not None:
            from .variants import read_variants

            variants = read_variants(variants_file)
            for problem in variants.warnings:
                click.echo(f"zhsearch: warning: {variants.source}: {problem}", err=True)
        expand = dict(variants=variants, expand=not no_variants)
        if explain:
            click.echo(ix.explain(text, **expand), err=True)
        if as_json and facets:  # only the counts are printed: no need to rank the hits
            counts = ix.facets(text, since=since, until=until, sources=sources, fold=not no_fold, new=new, **expand)
        else:
            hits = ix.search(text, limit=limit, offset=offset, since=since, until=until, sources=sources, sort=sort,
                             fold=not no_fold, facets=facets, new=new, **_match_options(match_any, min_match),
                             **expand)
            _print_hits(hits, as_json=as_json, color=color, what=f"for {printable(text)}", facets=facets)
            return
    write_ndjson([counts.to_dict()], sys.stdout)
    if not counts.total:
        click.echo(f"zhsearch: no hits for {printable(text)}", err=True)
        sys.exit(EXIT_NO_HITS)


@main.command("timeline", context_settings={"ignore_unknown_options": True})
@click.argument("query", nargs=-1, required=True, type=click.UNPROCESSED)
@index_option
@click.option("--by", type=click.Choice(["auto", "day", "week", "month", "year"]), default="auto", show_default=True,
              help="Period of a row (auto: the finest that keeps the chart under 40 rows).")
@json_option
@filter_options
@color_option
def timeline_command(query, index_dir, by, as_json, since, until, sources, new, no_fold, color):
    """Count the matches of QUERY by period and outlet: a bar chart, or with --json one
    object per period. Matches and folds stories as `search` does; the counts add up to its total.

    Exit codes: 0 matches found, 1 none, 2 a bad query, a missing or unreadable index, a usage error.
    """
    from . import open_index
    from .chart import render_timeline
    from .render import use_color, write_ndjson

    text = " ".join(query)
    out = sys.stdout
    with cli_errors(), open_index(index_dir) as ix:
        periods = ix.timeline(text, by=by, since=since, until=until, sources=sources, new=new, fold=not no_fold)
    if as_json:
        write_ndjson((p.to_dict() for p in periods), out)
    else:
        render_timeline(periods, out, color=use_color(color, out), width=_width())
    if not any(p.count for p in periods):
        click.echo(f"zhsearch: no hits for {printable(text)}", err=True)
        sys.exit(EXIT_NO_HITS)


@main.command("similar")
@click.argument("source", required=False, metavar="URL|-")
@click.option("--text", metavar="TEXT", help="Find the stories this text is about (instead of URL or -).")
@index_option
@results_options
@click.option("--days", type=click.FloatRange(min=0), metavar="N",
              help="Only articles published within N days of the article at URL.")
@click.option("--explain", is_flag=True, help="Print the words chosen from the source, then search.")
def similar_command(source, text, index_dir, limit, offset, as_json, since, until, sources, new, no_fold, color, days,
                    explain):
    """Articles about the same story as the indexed article at URL, or as a text read from
    standard input (`-`) or given with --text: best first, never the article itself or its copies.

    Exit codes: 0 hits found, 1 no hits or no article at URL, 2 an empty, binary or wordless
    text, a missing or unreadable index, a usage error.
    """
    from . import open_index

    if (source is None) == (text is None):
        raise click.UsageError("give one of URL, - (a text on standard input) or --text TEXT")
    if source == "-":
        text = _read_text(sys.stdin.buffer)
    with cli_errors(), open_index(index_dir) as ix:
        hits = ix.similar(source if text is None else text, limit=limit, offset=offset, days=days, since=since,
                          until=until, sources=sources, fold=not no_fold, new=new)
        if explain:
            click.echo(f"words: {hits.query}", err=True)
        what = f"like {printable(source)}" if text is None else "like the text"
        _print_hits(hits, as_json=as_json, color=color, what=what)


def _read_text(stream) -> str:
    """UTF-8 text from a byte stream, at most MAX_TEXT_CHARS characters (a warning when cut)."""
    import codecs

    from .similar import MAX_TEXT_CHARS

    limit = 4 * MAX_TEXT_CHARS  # bytes enough for MAX_TEXT_CHARS characters of any kind
    data = stream.read(limit + 1)
    try:
        # not final: the read may end inside a character
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(data[:limit], final=len(data) <= limit)
    except UnicodeDecodeError:
        raise CliError("standard input is not UTF-8 text") from None
    if "\0" in text:
        raise CliError("standard input is binary, not text")
    if len(data) > limit or len(text) > MAX_TEXT_CHARS:
        click.echo(f"zhsearch: warning: the text is longer than {MAX_TEXT_CHARS:,} characters; "
                   f"the first {MAX_TEXT_CHARS:,} are used", err=True)
    return text[:MAX_TEXT_CHARS]


def _match_options(match_any: bool, min_match: float | None) -> dict:
    if not match_any and min_match is None:
        return {}
    return {"match": "any"} if min_match is None else {"match": "any", "min_match": min_match}


def _print_hits(hits, *, as_json: bool, color: str, what: str, facets: bool = False) -> None:
    """Print each hit as it is made (inside the Index's `with`: `-n 0` streams), then exit 1
    when there was none to print."""
    from .render import render_hits, use_color, write_ndjson

    out = sys.stdout
    # a reader that leaves (`| head -1`) ends the command by SIGPIPE (_Group.invoke), as grep does
    if as_json:
        write_ndjson((h.to_dict() for h in hits), out)
    else:
        render_hits(hits, out, color=use_color(color, out), width=_width())
    out.flush()
    if not as_json and hits.total > len(hits) + hits.offset and len(hits):
        click.echo(f"{hits.offset + 1}-{hits.offset + len(hits)} of {hits.total} hits", err=True)
    if facets and not as_json and hits.total:
        from .chart import render_facets

        render_facets(hits.facets, out, width=_width())
    if not hits.total:
        click.echo(f"zhsearch: no hits {what}", err=True)
        sys.exit(EXIT_NO_HITS)
    if not len(hits):
        click.echo(f"zhsearch: {hits.total} hits, none after offset {hits.offset}", err=True)
        sys.exit(EXIT_NO_HITS)


@main.command("stats")
@index_option
@json_option
def stats_command(index_dir, as_json):
    """Documents, per-outlet counts, date range, index size, last update."""
    from . import open_index
    from .render import render_stats, write_json

    with cli_errors(), open_index(index_dir) as ix:
        stats = ix.stats()
    out = sys.stdout
    write_json(stats.to_dict(), out) if as_json else render_stats(stats, out)


@main.command("show")
@click.argument("url")
@index_option
@json_option
@color_option
def show_command(url, index_dir, as_json, color):
    """Print one indexed article (title, date, outlet, lead, body) for reading."""
    from . import open_index
    from .render import render_article, use_color, write_json

    with cli_errors(), open_index(index_dir) as ix:
        article = ix.get(url)
    if article is None:
        raise CliError(f"no indexed article has the URL {printable(url)}", EXIT_NO_HITS)
    out = sys.stdout
    if as_json:
        write_json(article.to_dict(), out)
    else:
        render_article(article, out, color=use_color(color, out), width=_width())


EXIT_UNAVAILABLE = 69  # sysexits.h EX_UNAVAILABLE: serve cannot listen on its address


@main.command("serve")
@index_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but the loopback lets anyone on the network read the archive.")
@click.option("--port", type=click.IntRange(0, 65535), default=8700, show_default=True,
              help="Port to listen on (0: any free one; the address printed says which).")
def serve_command(index_dir, host, port):
    """Serve the index as a search page and as JSON over HTTP (read-only), until Ctrl-C.

    The page: / (?q= as on the command line). JSON: /api/search, /api/article?url=,
    /api/stats, /api/facets, /api/timeline (see README, "Serve"). Commits of `zhsearch index`
    show within seconds, without a restart.

    Exit codes: 2 a missing or unusable index, a usage error; 69 the address cannot be
    listened on (the port is in use); 130 stopped by Ctrl-C.
    """
    from indexer.errors import ZhsearchError

    from .serve.server import AddressUnusable, serve

    try:
        serve(index_dir, host, port)  # Ctrl-C: the group's "interrupted", exit 130, once all is closed
    except ZhsearchError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    except AddressUnusable as exc:
        raise CliError(str(exc), EXIT_UNAVAILABLE) from None


__all__ = ["main", "EXIT_USAGE"]
