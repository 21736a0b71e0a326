"""Calling ASGI apps in-process, and the statistics of the timings.

Requests go straight into the app's ASGI callable (no sockets, no HTTP
parser, no client library), the same way for the baseline and for fuwu, so
what is measured is the app: routing, middleware, handler, database,
templates. ``perf_counter`` around each call gives the latency; a batch's
wall time gives the throughput.
"""

from __future__ import annotations

import gc
import math
import statistics
from dataclasses import dataclass, field
from time import perf_counter
from urllib.parse import urlsplit

import anyio


@dataclass(frozen=True)
class Call:
    """One request: path with query, extra headers, and the expected status."""

    url: str
    headers: tuple[tuple[str, str], ...] = ()
    status: int = 200
    #: text the body must contain, and text it must not (checked on warm-up)
    expect: str = ""
    reject: str = ""

    def scope(self) -> dict:
        parts = urlsplit(self.url)
        headers = [(b"host", b"bench.local"), (b"user-agent", b"fuwu-bench")]
        headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers]
        return {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": parts.path, "raw_path": parts.path.encode(),
            "query_string": parts.query.encode(), "root_path": "", "headers": headers,
            "client": ("127.0.0.1", 40000), "server": ("bench.local", 80),
        }


class CheckFailed(AssertionError):
    """A benchmarked page or save did not do what it should."""


async def call(app, template: dict) -> tuple[int, bytes]:
    """Run one request through ``app``; returns (status, body)."""
    scope = dict(template)
    done = anyio.Event()
    sent_body = False
    status = 0
    chunks: list[bytes] = []

    async def receive():
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    try:
        await app(scope, receive, send)
    except Exception:
        # Starlette re-raises a handler's error after sending the 500 page,
        # for the server to log; fuwu has logged it already.
        if not status:
            raise
    return status, b"".join(chunks)


async def check(app, request: Call) -> bytes:
    status, body = await call(app, request.scope())
    if status != request.status:
        sent = "".join(f" [{k}: {v}]" for k, v in request.headers if k.lower() != "cookie")
        raise CheckFailed(f"GET {request.url}{sent} answered {status}, expected {request.status}")
    if request.expect and request.expect.encode() not in body:
        raise CheckFailed(f"{request.url}: body lacks {request.expect!r}: {body[:300]!r}")
    if request.reject and request.reject.encode() in body:
        raise CheckFailed(f"{request.url}: body has {request.reject!r}: {body[:300]!r}")
    return body


@dataclass
class Batch:
    """``requests`` calls at ``concurrency``: wall time and each latency (s)."""

    requests: int
    concurrency: int
    wall: float
    latencies: list[float]

    @property
    def throughput(self) -> float:
        return self.requests / self.wall

    def __add__(self, other: Batch) -> Batch:
        return Batch(self.requests + other.requests, self.concurrency, self.wall + other.wall,
                     self.latencies + other.latencies)


async def batch(app, request: Call, requests: int, concurrency: int) -> Batch:
    template = request.scope()
    latencies: list[float] = []
    todo = iter(range(requests))
    failures: list[str] = []

    async def worker():
        for _ in todo:
            start = perf_counter()
            status, body = await call(app, template)
            latencies.append(perf_counter() - start)
            if status != request.status:
                failures.append(f"{request.url}: status {status}: {body[:200]!r}")

    gc.collect()
    start = perf_counter()
    async with anyio.create_task_group() as tasks:
        for _ in range(concurrency):
            tasks.start_soon(worker)
    wall = perf_counter() - start
    if failures:
        raise CheckFailed(failures[0])
    return Batch(requests, concurrency, wall, latencies)


async def interleaved(sides: list[tuple[object, Call]], requests: int) -> list[list[float]]:
    """``requests`` calls per side, one at a time, taking turns (A B A B …),
    so that whatever else the machine does falls on every side alike."""
    templates = [(app, request.scope(), request.status) for app, request in sides]
    latencies: list[list[float]] = [[] for _ in sides]
    gc.collect()
    for _ in range(requests):
        for i, (app, template, expected) in enumerate(templates):
            start = perf_counter()
            status, body = await call(app, template)
            latencies[i].append(perf_counter() - start)
            if status != expected:
                raise CheckFailed(f"{sides[i][1].url}: status {status}: {body[:200]!r}")
    return latencies


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of ``values`` (sorted here)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Measure:
    """Throughput batches and serial latencies of one side of a comparison."""

    label: str
    loaded: list[Batch] = field(default_factory=list)
    serial: list[float] = field(default_factory=list)
    queries: int | None = None
    body_bytes: int | None = None

    @property
    def throughput(self) -> float:
        """Median over rounds of requests per second under concurrency."""
        return statistics.median(b.throughput for b in self.loaded)

    def p(self, pct: float) -> float:
        return percentile(self.serial, pct)

    def loaded_p(self, pct: float) -> float:
        return percentile([x for b in self.loaded for x in b.latencies], pct)
