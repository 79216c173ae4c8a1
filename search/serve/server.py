"""Run the app under waitress: bind first, say where, warm up behind it, stop cleanly on Ctrl-C.

waitress is a pure-Python, multi-threaded production WSGI server: one thread accepts and
reads requests (keep-alive included), WORKERS threads run the app, each with its own Index.
The socket is bound and the address printed before anything slow happens (numpy, Whoosh and
the analyser's dictionaries load in a background warm-up), so the command answers at once;
a request that comes during the warm-up waits for it.
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import sys

import click

from indexer import store

# Python's GIL runs one thread's Python at a time: more worker threads only add switching
# (1 served ~10-20% more requests flat out than 2, 2 more than 4), while with a single one
# a slow query (a common word on a large index) would hold up every other request.
WORKERS = 2


class AddressUnusable(OSError):
    """The host and port cannot be listened on (in use, not this machine's, no permission)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_of(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host and not host.startswith("[") else f"http://{host}:{port}/"


def serve(index_dir: str, host: str, port: int, *, workers: int = WORKERS) -> None:
    """Serve until interrupted (KeyboardInterrupt goes on to the caller once all is closed).

    IndexNotFound / IndexUnusable before binding: a missing index is a usage error, found
    without opening it. AddressUnusable when the socket cannot be bound."""
    import waitress

    from .app import LOOPBACK_HOSTS, create_app
    from .indexes import Indexes

    store.current_generation_dir(index_dir)
    # waitress warns of every request that waits for a worker; with two workers a few waiting is
    # normal under load, and one line each would bury what the console is for (the address, errors)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    indexes = Indexes(index_dir, workers)
    local = is_loopback(host)
    app = create_app(indexes, hosts=LOOPBACK_HOSTS if local else None)
    try:
        server = waitress.create_server(app, host=host, port=port, threads=workers, ident="zhsearch",
                                        clear_untrusted_proxy_headers=True)
    except OSError as exc:
        raise AddressUnusable(f"cannot listen on {url_of(host, port)}: {exc.strerror or exc}") from None
    try:
        if not local:
            click.echo(f"zhsearch: warning: listening on {host}: anyone who can reach this machine on the network "
                       f"can read the archive", err=True)
        click.echo(f"zhsearch: serving {index_dir} at {url_of(host, server.effective_port)} (Ctrl-C to stop)")
        sys.stdout.flush()
        indexes.start_warm_up()
        if _runs_until_interrupted(server):
            raise KeyboardInterrupt
    finally:
        server.close()
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=2)
        indexes.close()


def _runs_until_interrupted(server) -> bool:
    """Run the server; True when Ctrl-C stopped it. waitress's run() takes a KeyboardInterrupt
    as its cue to return normally, so the signal is noted on its way through, for exit 130."""
    interrupted = []

    def note(signum, frame):
        interrupted.append(signum)
        signal.default_int_handler(signum, frame)

    previous = signal.signal(signal.SIGINT, note)
    try:
        server.run()
    finally:
        signal.signal(signal.SIGINT, previous)
    return bool(interrupted)
