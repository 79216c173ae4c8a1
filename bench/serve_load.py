"""Load on `zhsearch serve` (issue 15): the pool index served by a real `zhsearch serve` process.

    python bench/serve_load.py                 # `make bench-serve` (and the end of `make bench`)
    python bench/serve_load.py --index DIR     # an index already built (else the pool, built in a scratch folder)
    python bench/serve_load.py --quick         # 5 s + 3 s on 500 pool files: a smoke run

1. Start: the process spawned -> its address printed -> the first 200 (the warm-up opens an
   Index per worker thread and runs a query on each before the first request is answered).
2. 100 requests, one at a time (the bench queries); the server's memory (RSS and PSS, from
   /proc) after them. Growth is read on PSS: every worker's Index maps the index's files, and
   RSS counts a page of them once per mapping that touched it.
3. Open loop: CLIENTS clients send RATE requests a second in all, for OPEN_S seconds, on a fixed
   timetable (request k at k / RATE s; client i sends requests i, i + CLIENTS, ...), each over
   its own keep-alive connection. A request's latency runs from the time it was due, not
   from when it was sent, so a stall counts against every request it delays (no coordinated
   omission). Every fifth request is the search page (HTML: hits, outlet counts, timeline),
   the others /api/search (top 10 with snippets); the 34 bench queries in turn.
4. Closed loop: the same clients, each sending its next request as soon as the last one is
   answered, for CLOSED_S seconds: errors and throughput.
5. The server's memory again, then Ctrl-C: it must exit 130.

The clients are threads of this process, the server another process: on a 2-core machine they
share the cores, so the closed loop's throughput is a floor. Results go to bench/results.json
under "serve" (a --quick run: bench/work/results-quick.json), with the load average.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import children, goals  # noqa: E402
from bench import pool as bpool  # noqa: E402
from bench.corpora import Interrupted, Scratch, copy_corpus  # noqa: E402
from bench.measure import load, log, percentile  # noqa: E402
from bench.queries import QUERIES  # noqa: E402
from bench.speed import QUICK_FILES, QUICK_RESULTS, RESULTS, WORK, _git_head, save_results  # noqa: E402

CLIENTS = 20
RATE = 50.0  # requests a second, all clients together
OPEN_S, CLOSED_S = 30.0, 15.0
FIRST = 100  # requests before the first memory reading
PAGE_EVERY = 5  # every fifth request is the HTML page


def request_path(k: int) -> tuple[str, str]:
    """The k-th request of a run: (kind, path)."""
    q = QUERIES[k % len(QUERIES)][1]
    if k % PAGE_EVERY == PAGE_EVERY - 1:
        return "page", "/?" + urlencode({"q": q})
    return "api", "/api/search?" + urlencode({"q": q, "limit": 10})


class Client:
    """One keep-alive connection; a new one after an error."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> int:
        for attempt in (0, 1):  # a keep-alive connection the server closed meanwhile: once more, anew
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                r.read()
                return r.status
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        return 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def memory_mb(pid: int) -> dict:
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key = line.split(":")[0]
            if key in ("Rss", "Pss"):
                out[key.lower() + "_mb"] = round(int(line.split()[1]) / 1024, 1)
    return out


def summary(samples: list[tuple[str, float, int]], seconds: float) -> dict:
    """p50/p95/max (ms), errors and rate of (kind, latency s, status) samples; also per kind."""
    def one(rows):
        ms = [lat * 1000 for _, lat, _ in rows]
        if not ms:
            return {"requests": 0}
        return {"requests": len(rows), "errors": sum(1 for _, _, st in rows if st != 200),
                "p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
                "p99_ms": round(percentile(ms, 99), 1), "max_ms": round(max(ms), 1),
                "per_s": round(len(rows) / seconds, 1)}
    return {**one(samples), "by_kind": {kind: one([s for s in samples if s[0] == kind]) for kind in ("api", "page")}}


def _drive(host: str, port: int, plans: list) -> list[tuple[str, float, int]]:
    """One client thread per plan, each over its own connection: a plan yields (k, due), the
    k-th request and when it is due (None: now); a sample is (kind, seconds since due, status)."""
    samples: list[tuple[str, float, int]] = []
    lock = threading.Lock()

    def run(plan) -> None:
        client = Client(host, port)
        mine = []
        for k, due in plan:
            if due is None:
                due = time.monotonic()
            elif (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            kind, path = request_path(k)
            try:
                status = client.get(path)
            except OSError:
                status = 0
            mine.append((kind, time.monotonic() - due, status))
        client.close()
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=run, args=(plan,)) for plan in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return samples


def open_loop(host: str, port: int, seconds: float, rate: float = RATE, clients: int = CLIENTS) -> dict:
    total = int(seconds * rate)
    start = time.monotonic() + 0.2

    def timetable(i: int):
        return ((k, start + k / rate) for k in range(i, total, clients))

    out = summary(_drive(host, port, [timetable(i) for i in range(clients)]), seconds)
    out.update(clients=clients, rate_per_s=rate, seconds=seconds, late_s=round(time.monotonic() - start - seconds, 2))
    return out


def closed_loop(host: str, port: int, seconds: float, clients: int = CLIENTS) -> dict:
    started = time.monotonic()
    end = started + seconds
    counter = itertools.count()

    def as_fast_as_answered():
        while time.monotonic() < end:
            yield next(counter), None

    samples = _drive(host, port, [as_fast_as_answered() for _ in range(clients)])
    out = summary(samples, time.monotonic() - started)
    out["clients"] = clients
    return out


def start_server(index: Path, stderr) -> tuple[subprocess.Popen, str, int, dict]:
    spawned = time.monotonic()
    proc = subprocess.Popen([children.ZHSEARCH, "serve", "--index", index, "--port", "0"], stdout=subprocess.PIPE,
                            stderr=stderr, text=True)
    line = proc.stdout.readline()
    printed = time.monotonic()
    m = re.search(r"at (http://\S+/) ", line)
    if not m:
        proc.kill()
        sys.exit(f"zhsearch serve printed no address: {line!r}")
    url = urlsplit(m.group(1))
    client = Client(url.hostname, url.port)
    while True:  # the first answer waits for the warm-up
        try:
            if client.get("/api/search?" + urlencode({"q": "香港"})) == 200:
                break
        except OSError:
            time.sleep(0.01)
    first = time.monotonic()
    client.close()
    return proc, url.hostname, url.port, {"address_s": round(printed - spawned, 3), "first_200_s": round(first - spawned, 3)}


def run(index: Path, args) -> dict:
    meta = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "load_before": load(), "git_head": _git_head(),
            "cpus": os.cpu_count(), "python": sys.version.split()[0], "quick": args.quick, "index": str(index),
            "clients": CLIENTS, "rate_per_s": RATE, "open_s": args.open_s, "closed_s": args.closed_s,
            "queries": len(QUERIES), "page_every": PAGE_EVERY, "uptime": _uptime()}
    with tempfile.TemporaryFile("w+") as err:
        proc, host, port, start = start_server(index, err)
        try:
            log(f"serving {index} at {host}:{port}: address after {start['address_s']:.2f} s, "
                f"first 200 after {start['first_200_s']:.2f} s")
            client = Client(host, port)
            first = [client.get(request_path(k)[1]) for k in range(FIRST)]
            client.close()
            memory = {"after_first": memory_mb(proc.pid), "first_errors": sum(s != 200 for s in first)}
            log(f"open loop: {CLIENTS} clients, {RATE:g} requests/s, {args.open_s:g} s ...")
            opened = open_loop(host, port, args.open_s)
            memory["after_open"] = memory_mb(proc.pid)
            log(f"closed loop: {CLIENTS} clients flat out, {args.closed_s:g} s ...")
            closed = closed_loop(host, port, args.closed_s)
            memory["end"] = memory_mb(proc.pid)
            # PSS, not RSS: each worker's Index maps the index's files itself, and RSS counts a
            # page once per mapping (it grows as the other workers touch pages one already had)
            memory["growth"] = round(memory["end"]["pss_mb"] / memory["after_first"]["pss_mb"], 3)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                code = proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
        err.seek(0)
        server_errors = [line for line in err.read().splitlines() if "error" in line]
    meta.update(load_after=load(), exit_code=code, server_error_lines=server_errors[:20])
    return {"meta": meta, "start": start, "memory": memory, "open": opened, "closed": closed}


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def report(res: dict) -> None:
    s, m, o, c = res["start"], res["memory"], res["open"], res["closed"]
    print(f"\nzhsearch serve under load; load average {res['meta']['load_before']} -> {res['meta']['load_after']}")
    print(f"start: address printed after {s['address_s']:.2f} s, first 200 after {s['first_200_s']:.2f} s")
    print(f"open loop, {o['clients']} clients, {o['rate_per_s']:g}/s for {o['seconds']:g} s: {o['requests']} requests, "
          f"{o['errors']} errors; p50 {o['p50_ms']} ms, p95 {o['p95_ms']} ms, p99 {o['p99_ms']} ms, max {o['max_ms']} ms")
    for kind, k in o["by_kind"].items():
        if k["requests"]:
            print(f"  {kind:<5} {k['requests']:>5} requests: p50 {k['p50_ms']} ms, p95 {k['p95_ms']} ms, max {k['max_ms']} ms")
    print(f"closed loop, {c['clients']} clients flat out: {c['requests']} requests, {c['errors']} errors, "
          f"{c['per_s']} requests/s; p50 {c['p50_ms']} ms, p95 {c['p95_ms']} ms")
    print(f"server memory (RSS / PSS MB): after {FIRST} requests {m['after_first']['rss_mb']} / "
          f"{m['after_first']['pss_mb']}, after the open loop {m['after_open']['rss_mb']} / {m['after_open']['pss_mb']}, "
          f"at the end {m['end']['rss_mb']} / {m['end']['pss_mb']} (PSS x{m['growth']})")
    print(f"Ctrl-C: exit {res['meta']['exit_code']}; server error lines: {len(res['meta']['server_error_lines'])}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, help="serve this index (default: build the pool's in a scratch folder)")
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_FILES} pool files, 5 s + 3 s: a smoke run")
    ap.add_argument("--work", type=Path, default=WORK, help="where the scratch folder goes (default bench/work)")
    ap.add_argument("--open-seconds", type=float, help=f"length of the open loop (default {OPEN_S:g}; --quick 5)")
    ap.add_argument("--closed-seconds", type=float, help=f"length of the closed loop (default {CLOSED_S:g}; --quick 3)")
    args = ap.parse_args(argv)
    args.open_s, args.closed_s = (5.0, 3.0) if args.quick else (OPEN_S, CLOSED_S)
    args.open_s = args.open_seconds or args.open_s
    args.closed_s = args.closed_seconds or args.closed_s
    results = QUICK_RESULTS if args.quick else RESULTS
    try:
        with Scratch(args.work) as work:
            index = args.index
            if index is None:
                pool = bpool.pool_or_why()
                if pool is None:
                    return 0
                files = bpool.pool_files(pool)
                if args.quick:
                    files = files[:: max(1, len(files) // QUICK_FILES)][:QUICK_FILES]
                corpus = work / "corpus"
                copy_corpus(files, pool, corpus)
                log(f"indexing {len(files)} pool files ...")
                children.zhsearch_build([corpus], work / "index")
                index = work / "index"
            res = run(index, args)
    except (KeyboardInterrupt, Interrupted):
        print("interrupted; scratch folder deleted", file=sys.stderr)
        return 130
    report(res)
    data = save_results(results, "serve", res)
    goals.print_goals([v for v in goals.check(data) if v.section == "serve"], quick=args.quick)
    print(f"written to {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
