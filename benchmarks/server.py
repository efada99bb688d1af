"""Load on `mattekit serve` over loopback: concurrent clients, latency, throughput, memory, errors.

Usage:
    python benchmarks/server.py [--clients 50] [--requests 20] [--workers N] [--queue Q]
                                [--level person:fast] [--size 1080p] [--json]

Starts `mattekit serve` in its own process on a free loopback port, then runs `--clients`
threads that each send `--requests` cutout requests (POST /v1/remove, multipart) of the same
1080p photo. A 503 is the server saying it is full: the client waits the Retry-After it was
given and sends the same request again (each 503 is counted). Reported:

- latency of the answered requests (send to last byte, the successful attempt): p50/p95/p99;
- throughput of the server (answered requests per second, wall time of the whole load) next
  to the same work done in this process by a Remover on as many threads as the server has
  workers (decode, segment, compose, encode PNG; no HTTP), measured in the same run, before
  and after the load (their mean is the reference: the machine may be shared);
- the server's resident memory (RSS, from /proc) after request 100 and after the last one;
- every status other than 200, and transport errors (only 503s are allowed).

Loopback only; every loop is bounded in count, and the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine
from images import make_photo

from mattekit import RemoveOptions, Remover
from mattekit.server import ServerSettings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def start_server(port: int, level: str, workers: int | None, queue: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "mattekit", "--quiet", "serve", "--port", str(port), "--preload", level,
               "--queue", str(queue)]  # fmt: skip
    if workers:
        command += ["--workers", str(workers)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                f"the server stopped: {server.stderr.read().decode() if server.stderr else ''}"
            )
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.terminate()
    raise RuntimeError("the server did not get ready in 120 s")


class Load:
    """The clients' shared tallies."""

    def __init__(self, pid: int, total: int) -> None:
        self.pid = pid
        self.total = total
        self.lock = threading.Lock()
        self.done = 0
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.rss: dict[int, float] = {}

    def answered(self, seconds: float) -> None:
        with self.lock:
            self.done += 1
            self.latencies.append(seconds)
            if self.done in (100, self.total):
                self.rss[self.done] = rss_mb(self.pid)

    def count(self, what: str) -> None:
        with self.lock:
            self.statuses[what] += 1


def client(
    url: str, photo: bytes, fields: dict[str, str], requests: int, load: Load, start: threading.Barrier
) -> None:
    with httpx.Client(base_url=url, timeout=300) as http:
        start.wait()
        for _ in range(requests):
            for _attempt in range(1000):  # bounded: a server that never frees a slot ends the run
                began = time.perf_counter()
                try:
                    answer = http.post("/v1/remove", files={"file": ("photo.jpg", photo)}, data=fields)
                except httpx.TransportError as exc:
                    load.count(f"transport error: {type(exc).__name__}")
                    break
                load.count(str(answer.status_code))
                if answer.status_code == 503:
                    time.sleep(float(answer.headers.get("retry-after", "1")))
                    continue
                if answer.status_code == 200:
                    load.answered(time.perf_counter() - began)
                break


def in_process(photo: bytes, level: str, threads: int, count: int) -> float:
    """Images per second for the same work in this process, on `threads` threads."""
    subject, _, quality = level.partition(":")
    remover = Remover(RemoveOptions(subject=subject, quality=quality))

    def one(_: int) -> None:
        remover.process_file(photo, io.BytesIO(), fmt="PNG")

    one(0)  # warm-up
    with ThreadPoolExecutor(threads) as pool:
        began = time.perf_counter()
        list(pool.map(one, range(count)))
        return count / (time.perf_counter() - began)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20, help="per client")
    parser.add_argument("--workers", type=int, default=None, help="server workers (default: the server's)")
    parser.add_argument("--queue", type=int, default=8)
    parser.add_argument("--level", default="person:fast")
    parser.add_argument("--size", default="1080p")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        photo = make_photo(args.size, Path(folder)).read_bytes()
    subject, _, quality = args.level.partition(":")
    fields = {"subject": subject, "quality": quality}
    workers = args.workers or ServerSettings().workers
    total = args.clients * args.requests
    local_before = in_process(photo, args.level, workers, count=max(20, min(100, total // 10)))
    port = free_port()
    server = start_server(port, args.level, args.workers, args.queue)
    url = f"http://127.0.0.1:{port}"
    try:
        ready = httpx.get(f"{url}/readyz", timeout=10).json()
        assert int(ready["workers"]) == workers
        load = Load(server.pid, total)
        rss_start = rss_mb(server.pid)
        start = threading.Barrier(args.clients)
        threads = [
            threading.Thread(target=client, args=(url, photo, fields, args.requests, load, start))
            for _ in range(args.clients)
        ]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
    finally:
        server.terminate()
        server.wait(30)
    served = load.done / wall
    local_after = in_process(photo, args.level, workers, count=max(20, min(100, total // 10)))
    local = (local_before + local_after) / 2  # before and after the load: the machine may be shared
    unexpected = {k: v for k, v in load.statuses.items() if k not in ("200", "503")}
    rss_100 = load.rss.get(100, float("nan"))
    rss_end = load.rss.get(total, float("nan"))
    result = {
        "machine": machine(),
        "load_average": os.getloadavg()[0],
        "clients": args.clients,
        "requests_per_client": args.requests,
        "level": args.level,
        "photo": f"{args.size}, {len(photo) / 1e3:.0f} KB JPEG",
        "workers": workers,
        "queue": args.queue,
        "answered": load.done,
        "p50_ms": 1000 * statistics.median(load.latencies),
        "p95_ms": 1000 * percentile(load.latencies, 0.95),
        "p99_ms": 1000 * percentile(load.latencies, 0.99),
        "server_per_s": served,
        "in_process_per_s": local,
        "in_process_before_after": [local_before, local_after],
        "ratio": served / local,
        "rss_start_mb": rss_start,
        "rss_at_100_mb": rss_100,
        "rss_at_end_mb": rss_end,
        "rss_growth_100_to_end": (rss_end - rss_100) / rss_100,
        "statuses": dict(load.statuses),
        "unexpected": unexpected,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['machine']}; load average {result['load_average']:.1f} at the end")
    print(f"{args.clients} clients x {args.requests} requests, POST /v1/remove {args.level}, {result['photo']}; "
          f"server: {workers} workers, queue {args.queue}")  # fmt: skip
    print()
    print("| answered | p50 ms | p95 ms | p99 ms | server img/s | in process img/s | ratio | RSS @100 MB | "
          f"RSS @{total} MB | growth | 503s | other errors |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {load.done} | {result['p50_ms']:.0f} | {result['p95_ms']:.0f} | {result['p99_ms']:.0f} | "
          f"{served:.2f} | {local:.2f} | {result['ratio']:.2f} | {rss_100:.0f} | {rss_end:.0f} | "
          f"{100 * result['rss_growth_100_to_end']:+.1f}% | {load.statuses.get('503', 0)} | "
          f"{sum(unexpected.values())} {unexpected or ''} |")  # fmt: skip
    if unexpected:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
