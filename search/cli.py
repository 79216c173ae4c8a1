"""The `zhsearch` command: a thin click layer over the `indexer` and `search` APIs.

Imports of Whoosh and jieba are deferred into the commands, so `--help` and
`--version` stay instant.
"""

from __future__ import annotations

import shutil
import sys

import click

from indexer.cli import EXIT_INTERRUPTED, EXIT_USAGE, CliError, cli_errors, index_command, index_option

EXIT_NO_HITS = 1


def json_option(func):
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output (JSON).")(func)


def _width() -> int:
    return min(shutil.get_terminal_size((100, 24)).columns, 110)


class _Group(click.Group):
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


# Unknown "options" are query words: `zhsearch search 特朗普 -中国` excludes 中国.
@main.command("search", context_settings={"ignore_unknown_options": True})
@click.argument("query", nargs=-1, required=True, type=click.UNPROCESSED)
@index_option
@click.option("-n", "--limit", type=click.IntRange(min=0), default=10, show_default=True,
              help="Hits to show; 0 shows all.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many hits (paging).")
@json_option
@click.option("--since", metavar="DATE", help="Published on or after DATE (YYYY-MM-DD or ISO 8601, UTC).")
@click.option("--until", metavar="DATE", help="Published on or before DATE (inclusive).")
@click.option("--source", "sources", multiple=True, metavar="NAME", help="Only this outlet (repeatable): RFI, DW, …")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Highlight matches in colour (auto: on a terminal, unless NO_COLOR is set).")
@click.option("--no-fold", is_flag=True, help="List every copy of a story saved under several URLs as its own hit.")
@click.option("--explain", is_flag=True, help="Print how the query is parsed and analysed, then search.")
@click.option("--variants", "variants_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Name variants (one group per line, variants separated by spaces) added to the index's "
                   "for this search.")
@click.option("--no-variants", is_flag=True, help="Search without expanding name variants (特朗普 finds no 川普).")
def search_command(query, index_dir, limit, offset, as_json, since, until, sources, sort, color, no_fold, explain,
                   variants_file, no_variants):
    """Search the index. Words must all match; OR, -word / NOT word, "exact phrase",
    title: lead: body: and parentheses work as in most search engines.

    Exit codes: 0 hits found, 1 no hits, 2 a bad query, a missing or unreadable index, a usage error.
    """
    from . import open_index
    from .render import render_hits, use_color, write_ndjson

    text = " ".join(query)
    out = sys.stdout
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
        hits = ix.search(text, limit=limit, offset=offset, since=since, until=until, sources=sources, sort=sort,
                         fold=not no_fold, **expand)
    if as_json:
        write_ndjson((h.to_dict() for h in hits), out)
    else:
        render_hits(hits, out, color=use_color(color, out), width=_width())
        if hits.total > len(hits) + offset and len(hits):
            click.echo(f"{hits.offset + 1}-{hits.offset + len(hits)} of {hits.total} hits", err=True)
    if not hits.total:
        click.echo(f"zhsearch: no hits for {printable(text)}", err=True)
        sys.exit(EXIT_NO_HITS)
    if not len(hits):
        click.echo(f"zhsearch: {hits.total} hits, none after offset {offset}", err=True)
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
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True)
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


__all__ = ["main", "EXIT_USAGE"]
