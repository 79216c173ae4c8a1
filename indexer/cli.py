"""`zhsearch index`, and the one place where typed errors become messages and exit codes."""

from __future__ import annotations

import contextlib
import os
import sys

import click

from . import MEMORY_MB, errors

# Unix habits (sysexits.h where a code exists).
EXIT_USAGE = 2
EXIT_DATAERR = 65  # --strict: some file was skipped
EXIT_IOERR = 74  # the index could not be written
EXIT_TEMPFAIL = 75  # another indexer holds the lock; try again later
EXIT_INTERRUPTED = 130

EXIT_NOT_FOUND = 1  # `similar URL`: no such article (as `show`)

_EXIT_CODES = (
    (errors.ArticleNotFound, EXIT_NOT_FOUND),
    (errors.IndexLocked, EXIT_TEMPFAIL),
    (errors.IndexWriteFailed, EXIT_IOERR),
    (errors.ZhsearchError, EXIT_USAGE),
)

DEFAULT_INDEX = "index"


class CliError(click.ClickException):
    def __init__(self, message: str, exit_code: int = EXIT_USAGE):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"zhsearch: {self.format_message()}", err=True)


@contextlib.contextmanager
def cli_errors():
    """Turn library errors into one line on stderr and the documented exit code."""
    try:
        yield
    except errors.ZhsearchError as exc:
        code = next(c for kind, c in _EXIT_CODES if isinstance(exc, kind))
        raise CliError(str(exc), code) from None
    except KeyboardInterrupt:
        click.echo("zhsearch: interrupted; the index is as it was before this run", err=True)
        sys.exit(EXIT_INTERRUPTED)


def index_option(func):
    return click.option(
        "--index", "index_dir", metavar="DIR", envvar="ZHSEARCH_INDEX", default=DEFAULT_INDEX,
        show_default=True, show_envvar=True, help="Index folder.",
    )(func)


@click.command("index")
@click.argument("corpus", nargs=-1, type=click.Path(file_okay=False))
@index_option
@click.option("--rebuild", is_flag=True, help="Build a fresh index beside the old one and swap it in when complete.")
@click.option("--pattern", "patterns", multiple=True, metavar="GLOB",
              help="File names to index (repeatable). Default: *.md and *.txt.")
@click.option("--wait", type=click.FloatRange(min=0), default=5.0, show_default=True, metavar="SECONDS",
              help="How long to wait for another indexer to finish.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary line (warnings still go to stderr).")
@click.option("--strict", is_flag=True, help="Exit 65 when any file was skipped.")
@click.option("--userdict", type=click.Path(dir_okay=False), metavar="FILE",
              help="User dictionary (jieba's format: word [frequency] [tag] per line) of names to keep whole; "
                   "recorded in the index and used by searches. Changing it needs --rebuild.")
@click.option("--variants", type=click.Path(dir_okay=False), metavar="FILE",
              help="Name variants (one group per line, variants separated by spaces) kept with the index and "
                   "expanded by its searches; an empty file removes them. Replacing them needs no --rebuild.")
@click.option("--memory", "memory_mb", type=click.IntRange(min=16), default=MEMORY_MB, show_default=True, metavar="MB",
              help="Megabytes of postings the indexer holds before it writes a segment. More memory: "
                   "fewer, larger segments (a smaller index, faster searches on a large corpus).")
@click.option("--compact", is_flag=True,
              help="After the update, merge the whole index into one segment: smaller and faster to search; "
                   "worth it after a big import (it rewrites every document, see README).")
def index_command(corpus, index_dir, rebuild, patterns, wait, quiet, strict, userdict, variants, memory_mb,
                  compact):
    """Index the article files under CORPUS folders (default: corpus/).

    Only new, changed and deleted files cost work on a re-run. Exit codes: 0 done,
    2 usage error or unusable index, 65 a file was skipped (with --strict),
    74 the index could not be written, 75 another indexer holds the lock, 130 interrupted.
    """
    progress = not quiet and sys.stderr.isatty()

    def warn(path: str, reason: str) -> None:
        line = f"zhsearch: warning: {path}: {reason}"
        if progress:
            from tqdm import tqdm

            tqdm.write(line, file=sys.stderr)
        else:
            click.echo(line, err=True)

    with cli_errors():
        from .walk import DEFAULT_PATTERNS
        from .writer import update_index

        summary = update_index(
            list(corpus) or ["corpus"], index_dir, rebuild=rebuild, patterns=patterns or DEFAULT_PATTERNS,
            wait=wait, progress=progress, on_warning=warn, userdict=userdict, variants=variants, limitmb=memory_mb,
            compact=compact,
        )
    if not quiet:
        click.echo(summary.line(), err=True)
    if strict and summary.skipped:
        sys.exit(EXIT_DATAERR)
