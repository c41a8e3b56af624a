"""Benchmark: the verifier's scan page against a hello-world route, under the production server.

Run from the repository root::

    .venv/bin/python bench/verifier.py                    # 10 s per route, 8 connections, 2 workers
    .venv/bin/python bench/verifier.py --duration 3       # a quicker look

What is measured: one throw-away instance (the demo's records and key, plus a
second batch from which a pool of distinct stamp codes is issued) is served by
ONE Flask app from ``verify_server.create_app`` with an extra ``/hello`` route
added, under ``verify_server.serve.run(..., server="gunicorn")`` in a child
process over 127.0.0.1. The same load generator, connection count and worker
count then load:

- ``/hello``: "Hello, world!" through the same WSGI server, Flask app and
  after-request hooks (security headers): the ceiling this stack allows;
- ``/V/<TOKEN>``: the page a phone opens, cycling over the code pool so each
  request verifies a different unit (Ed25519 check, batch look-up, scan-log
  write, result page), as phones scanning different units do;
- ``/api/v1/verify?code=<TOKEN>``: the same verification answered as JSON
  (the signed record's part serialised once per batch), over the same pool.

The load generator is ``wrk --latency`` when it is installed (a Lua script
cycles the code paths), otherwise a Python one (threads, raw HTTP/1.1, one
request per connection since gunicorn's sync workers close each connection).
Both routes are warmed up for a second before each is measured.

Targets: the scan route serves at least 60 % of the hello-world rate, and its
99th-percentile latency is under 50 ms. It is a report: the exit status is 0
whatever the result (non-zero only when the benchmark itself breaks).

``--breakdown`` also loads, in the same run, routes that each do one more step
of a scan than the one before (``/B/<step>/<TOKEN>``, added to this bench's
app only), all answering a result page of the same size, to show what each
step costs against hello-world:

- ``page``: the route and a 5 KB page (a genuine result page, rendered once);
- ``verify``: + the verification (Ed25519 signature, key status, batch look-up,
  record checks, with the store's change mark read first);
- ``count``: + the unit's scan history read from the scan log (no write);
- ``log``: + the scan logged (the scan route's full work but the page);
and the scan route itself adds the page of this unit. The ``count`` and
``log`` steps scan the same pool of codes as the scan route, so more of its
pages carry the "possible copy" warning than in a run without ``--breakdown``
(a page of the same size and cost).
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import platform
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from importlib import metadata
from multiprocessing.process import BaseProcess
from pathlib import Path

from flask import Flask, Response, current_app

from stamps.demo import issue_demo_product_codes, run_demo
from stamps.errors import StampError
from stamps.instance import Instance
from verify_server import create_app
from verify_server.background import wait_until_ready
from verify_server.runtime import Runtime, vietnam_today
from verify_server.serve import run as serve

HOST = "127.0.0.1"
HELLO_PATH = "/hello"
HEALTH_PATH = "/healthz"
POOL_BATCH_QUANTITY = 100_000
TARGET_RATIO = 0.60
TARGET_P99_MS = 50.0
WARMUP_SECONDS = 1.0
STOP_TIMEOUT_SECONDS = 15.0
USER_AGENT = "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
ACCEPT_LANGUAGE = "vi-VN,vi;q=0.9,en;q=0.8"


@dataclasses.dataclass(frozen=True)
class Measurement:
    """One route under load: throughput, latency percentiles and what went wrong."""

    route: str
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int


LoadRun = Callable[[str, list[str], float], Measurement]


# setup ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def build_instance(root: Path, base_url: str, pool: int) -> list[str]:
    """The demo instance plus a large batch of the demo product; the paths (/V/TOKEN) of *pool* issued codes."""
    run_demo(root, base_url)
    instance = Instance.open(root)
    try:
        _, codes = issue_demo_product_codes(instance, "BENCH-VERIFIER", POOL_BATCH_QUANTITY, pool)
        return ["/V/" + issued.token for issued in codes]
    finally:
        instance.close()


def build_app(root: Path, *, breakdown: bool = False) -> Flask:
    """The verifier app with a hello-world route beside the real ones (same server, hooks and workers)."""
    app = create_app({"INSTANCE": str(root), "RATE_LIMIT_PER_MINUTE": 0})  # one load generator is every client
    app.add_url_rule(HELLO_PATH, "hello", lambda: "Hello, world!")
    if breakdown:
        add_breakdown_routes(app)
    return app


BREAKDOWN_STEPS = ("page", "verify", "count", "log")


def add_breakdown_routes(app: Flask) -> None:
    """``/B/<step>/<token>``: the first *step* of BREAKDOWN_STEPS' work for a scan, then a genuine page's bytes."""
    page: list[bytes] = []

    def step_route(step: str, token: str) -> Response:
        if not page:  # a genuine result page of the real size, rendered once (through the real route)
            page.append(app.test_client().get("/V/" + token, headers={"User-Agent": "bench"}).get_data())
        depth = BREAKDOWN_STEPS.index(step)
        if depth >= 1:
            runtime: Runtime = current_app.extensions["ocop_runtime"]
            verification = runtime.verifier().verify(token, today=vietnam_today())
            if depth >= 2:
                runtime.scan_log.record(runtime.instance().store, verification, "page/android", "127.0.0.0/24",
                                        current_app.config["COPY_THRESHOLD"], log=depth >= 3)
        return Response(page[0], 200, [("Vary", "Accept-Language"), ("Cache-Control", "no-store")],
                        content_type="text/html; charset=utf-8")

    app.add_url_rule(f"/B/<any({', '.join(BREAKDOWN_STEPS)}):step>/<token>", "breakdown", step_route)


# the server -------------------------------------------------------------


def _serve_child(app: Flask, port: int, workers: int) -> None:
    """The child's main thread becomes gunicorn's arbiter (it installs signal handlers)."""
    serve(app, host=HOST, port=port, workers=workers, server="gunicorn", access_log=False)


def start_server(app: Flask, port: int, workers: int) -> BaseProcess:
    """Fork the server and return once /healthz answers 200."""
    child = multiprocessing.get_context("fork").Process(target=_serve_child, args=(app, port, workers),
                                                        name="ocop-bench-verifier")
    child.start()
    try:
        wait_until_ready(f"http://{HOST}:{port}{HEALTH_PATH}", lambda: child.exitcode)
    except StampError as error:
        stop_server(child)
        raise SystemExit(error.diagnostics()) from None
    except BaseException:
        stop_server(child)
        raise
    return child


def stop_server(child: BaseProcess) -> None:
    """SIGTERM: gunicorn's arbiter stops its workers gracefully; kill only if it hangs."""
    if child.is_alive():
        child.terminate()
        child.join(STOP_TIMEOUT_SECONDS)
    if child.is_alive():
        child.kill()
        child.join()


def check_route(port: int, path: str) -> None:
    """One request before any load, so a broken route fails loudly instead of as a fast error rate."""
    request = urllib.request.Request(f"http://{HOST}:{port}{path}", headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    if status != 200:
        raise SystemExit(f"{path[:40]} answered {status}, not 200")


# wrk --------------------------------------------------------------------


WRK_SCRIPT = """\
wrk.headers["User-Agent"] = "{user_agent}"
wrk.headers["Accept-Language"] = "{accept_language}"
local paths = {{
{paths}
}}
local started = 0
function setup(thread)
  thread:set("offset", started * {stride})
  started = started + 1
end
function init(args)
  position = offset or 0
end
function request()
  position = position % #paths + 1
  return wrk.format("GET", paths[position])
end
"""

_REQUESTS_PER_SECOND = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_REQUEST_COUNT = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
_PERCENTILE = r"^\s+{0}%\s+([\d.]+)(us|ms|s|m|h)\s*$"
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def wrk_threads(connections: int) -> int:
    return max(1, min(2, connections))


def write_wrk_script(folder: Path, name: str, paths: list[str], threads: int) -> Path:
    """A Lua script that cycles *paths*, each wrk thread starting at a different place in the pool."""
    script = folder / f"{name}.lua"
    script.write_text(WRK_SCRIPT.format(user_agent=USER_AGENT, accept_language=ACCEPT_LANGUAGE,
                                        paths=",\n".join(f'"{path}"' for path in paths),
                                        stride=max(1, len(paths) // threads)), encoding="utf-8")
    return script


def wrk_load(port: int, connections: int, folder: Path) -> LoadRun:
    threads = wrk_threads(connections)

    def load(route: str, paths: list[str], duration: float) -> Measurement:
        script = write_wrk_script(folder, route.strip("/").replace("/", "-") or "root", paths, threads)
        command = ["wrk", "--latency", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
                   "-s", str(script), f"http://{HOST}:{port}/"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"wrk failed (exit {done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
        return parse_wrk(route, done.stdout)

    return load


def parse_wrk(route: str, output: str) -> Measurement:
    """The numbers of one ``wrk --latency`` report."""
    rate = _REQUESTS_PER_SECOND.search(output)
    count = _REQUEST_COUNT.search(output)
    if rate is None or count is None:
        raise SystemExit(f"cannot read wrk's report:\n{output}")
    non_2xx = _NON_2XX.search(output)
    socket_errors = _SOCKET_ERRORS.search(output)
    return Measurement(route, int(count.group(1)), float(rate.group(1)), _wrk_percentile(output, 50),
                       _wrk_percentile(output, 99), int(non_2xx.group(1)) if non_2xx else 0,
                       sum(int(n) for n in socket_errors.groups()) if socket_errors else 0)


def _wrk_percentile(output: str, percent: int) -> float:
    found = re.search(_PERCENTILE.format(percent), output, re.MULTILINE)
    if found is None:
        raise SystemExit(f"wrk's report has no {percent}% latency line:\n{output}")
    return float(found.group(1)) * _UNIT_MS[found.group(2)]


def wrk_version() -> str:
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    first = (done.stdout or done.stderr).splitlines()
    return first[0].split(" Copyright")[0] if first else "wrk (unknown version)"


# the Python load generator ----------------------------------------------


@dataclasses.dataclass
class _Tally:
    latencies: list[float] = dataclasses.field(default_factory=list)
    non_2xx: int = 0
    errors: int = 0


def python_load(port: int, connections: int) -> LoadRun:
    def load(route: str, paths: list[str], duration: float) -> Measurement:
        tallies = [_Tally() for _ in range(connections)]
        start = time.perf_counter()
        deadline = start + duration
        workers = [threading.Thread(target=_connection_loop, args=(port, paths, number, connections, deadline, tally))
                   for number, tally in enumerate(tallies)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - start
        latencies = sorted(latency for tally in tallies for latency in tally.latencies)
        if not latencies:
            raise SystemExit(f"no request to {route} completed")
        return Measurement(route, len(latencies), len(latencies) / elapsed, _percentile(latencies, 50),
                           _percentile(latencies, 99), sum(t.non_2xx for t in tallies), sum(t.errors for t in tallies))

    return load


def _connection_loop(port: int, paths: list[str], number: int, stride: int, deadline: float, tally: _Tally) -> None:
    """One simulated client: request after request (a new connection each) until *deadline*."""
    position = number * max(1, len(paths) // stride)
    while time.perf_counter() < deadline:
        path = paths[position % len(paths)]
        position += 1
        started = time.perf_counter()
        try:
            status = _one_request(port, path)
        except OSError:
            tally.errors += 1
            continue
        tally.latencies.append((time.perf_counter() - started) * 1000.0)
        if not 200 <= status < 300:
            tally.non_2xx += 1


def _one_request(port: int, path: str) -> int:
    """GET *path* over a fresh connection; the response's status code."""
    head = (f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUser-Agent: {USER_AGENT}\r\n"
            f"Accept-Language: {ACCEPT_LANGUAGE}\r\nConnection: close\r\n\r\n").encode("ascii")
    with socket.create_connection((HOST, port), timeout=10) as connection:
        connection.sendall(head)
        received = bytearray()
        while chunk := connection.recv(65536):
            received += chunk
    status_line = bytes(received.split(b"\r\n", 1)[0]).split()
    if len(status_line) < 2 or not status_line[1].isdigit():
        raise OSError("malformed response")
    return int(status_line[1])


def _percentile(ordered: list[float], percent: int) -> float:
    index = min(len(ordered) - 1, max(0, round(percent / 100 * len(ordered)) - 1))
    return ordered[index]


# report -----------------------------------------------------------------


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def print_setup(generator: str, workers: int, connections: int, duration: float, pool: int) -> None:
    print(f"load generator : {generator}, {connections} connections, {duration:g} s per route "
          f"(after {WARMUP_SECONDS:g} s warm-up)")
    print(f"server         : gunicorn {_version('gunicorn')} (sync), {workers} workers, Flask {_version('flask')}, "
          f"over {HOST}")
    print(f"code pool      : {pool:,} distinct stamp codes (cycled)")
    print(f"python         : {platform.python_implementation()} {platform.python_version()}\n")


def print_report(hello: Measurement, scan: Measurement, api: Measurement, steps: list[Measurement]) -> None:
    rows = [hello, *steps, scan, api]
    width = max(14, *(len(row.route) + 2 for row in rows))
    print(f"{'route':<{width}}{'requests':>10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'errors':>8}"
          + ("  vs hello" if steps else ""))
    for row in rows:
        print(f"{row.route:<{width}}{row.requests:>10,}{row.requests_per_second:>10,.0f}{row.p50_ms:>9.2f}{row.p99_ms:>9.2f}"
              f"{row.non_2xx:>9,}{row.errors:>8,}"
              + (f"{row.requests_per_second / hello.requests_per_second:>10.1%}" if steps else ""))
    ratio = scan.requests_per_second / hello.requests_per_second
    print(f"\nscan / hello   : {ratio:.1%}")
    print(f"api / hello    : {api.requests_per_second / hello.requests_per_second:.1%} (JSON answer of the same scans)")
    print(f"rate target    : scan >= {TARGET_RATIO:.0%} of hello   {_verdict(ratio >= TARGET_RATIO)}")
    print(f"latency target : scan p99 < {TARGET_P99_MS:g} ms ({scan.p99_ms:.2f} ms)   {_verdict(scan.p99_ms < TARGET_P99_MS)}")
    failed = [row.route for row in rows if row.non_2xx]
    print(f"responses      : {'all 2xx' if not failed else 'NOT all 2xx on ' + ', '.join(failed)}   "
          f"{_verdict(not failed)}")
    errored = [row.route for row in rows if row.errors]
    if errored:
        print(f"socket errors  : on {', '.join(errored)} (see the errors column)")


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# main -------------------------------------------------------------------


def measure(load: LoadRun, routes: list[tuple[str, list[str]]], duration: float) -> list[Measurement]:
    """Warm every route up, then measure each in turn."""
    for route, paths in routes:
        load(route, paths, WARMUP_SECONDS)
    return [load(route, paths, duration) for route, paths in routes]


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the verifier's scan page against hello-world under gunicorn.")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per route (default 10)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--pool", type=int, default=5000, help="distinct stamp codes to cycle over (default 5000)")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator: wrk when installed (auto), or force one")
    parser.add_argument("--breakdown", action="store_true",
                        help="also load routes doing each step of a scan in turn (page, verify, count, log)")
    args = parser.parse_args()
    use_wrk = args.loadgen == "wrk" or (args.loadgen == "auto" and shutil.which("wrk") is not None)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="ocop-bench-verifier-") as folder:
        root = Path(folder) / "instance"
        paths = build_instance(root, f"http://{HOST}:{port}", args.pool)
        app = build_app(root, breakdown=args.breakdown)
        generator = wrk_version() + " --latency (Lua path cycling)" if use_wrk else "Python threads (raw HTTP/1.1)"
        print_setup(generator, args.workers, args.connections, args.duration, len(paths))
        load = wrk_load(port, args.connections, Path(folder)) if use_wrk else python_load(port, args.connections)
        child = start_server(app, port, args.workers)
        try:
            step_routes = [(f"/B/{step}/<TOKEN>", [path.replace("/V/", f"/B/{step}/", 1) for path in paths[:-1]])
                           for step in (BREAKDOWN_STEPS if args.breakdown else ())]
            api_paths = [path.replace("/V/", "/api/v1/verify?code=", 1) for path in paths[:-1]]
            for path in (HELLO_PATH, paths[-1], api_paths[0], *(step_paths[0] for _, step_paths in step_routes)):
                check_route(port, path)
            hello, *steps, scan, api = measure(load, [(HELLO_PATH, [HELLO_PATH]), *step_routes, ("/V/<TOKEN>", paths[:-1]),
                                                      ("/api/v1/verify?code=<TOKEN>", api_paths)], args.duration)
        finally:
            stop_server(child)
        if child.exitcode not in (0, None):
            print(f"(the server exited with code {child.exitcode})")
    print_report(hello, scan, api, steps)


if __name__ == "__main__":
    main()
