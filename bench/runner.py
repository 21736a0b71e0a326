"""The comparisons, their ratios against the targets, and the report.

Every comparison runs its two sides in the same process on the same
database, and the sides take turns so that drift (CPU clock, page cache,
another job on the machine) falls on both alike: throughput batches go
A B, B A, … within each round, latencies come from requests sent one at a
time A B A B …, saves go in blocks. Throughput is the median over rounds of
requests per second at ``concurrency`` requests in flight; the latency
percentiles show what one request costs, not queueing behind the others.
"""

from __future__ import annotations

import math
import random
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import TextIO

import anyio
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from starlette.responses import Response
from starlette.routing import Route

from fuwu import timeline
from fuwu.audit import AuditEntry
from fuwu.models import Customer
from fuwu.timeline import TimelineEntry
from fuwu.web import sessions
from fuwu.web.app import create_app
from fuwu.web.endpoint import AUTHENTICATED, requires
from fuwu.web.pagination import encode

from . import baseline, data
from .driver import Batch, Call, CheckFailed, Measure, batch, check, interleaved


@dataclass
class Options:
    customers: int = 100_000
    #: requests per side per round, for the page comparisons (under load / one at a time)
    requests: int = 150
    serial_requests: int = 150
    #: the same for the near-empty routes, which are much cheaper
    fast_requests: int = 1000
    saves: int = 150
    warmup: int = 25
    rounds: int = 5
    concurrency: int = 4
    #: the deep keyset page starts after this fraction of the list
    deep_fraction: float = 0.9
    home: Path | None = None
    keep: bool = False
    profile: bool = False


@dataclass(frozen=True)
class Target:
    at_least: bool
    value: float

    def met(self, ratio: float) -> bool:
        return ratio >= self.value if self.at_least else ratio <= self.value

    def __str__(self) -> str:
        return f"{'>=' if self.at_least else '<='} {self.value:.2f}x"


@dataclass
class Ratio:
    key: str
    title: str
    value: float
    target: Target

    @property
    def passed(self) -> bool:
        return math.isfinite(self.value) and self.target.met(self.value)

    @property
    def verdict(self) -> str:
        if not math.isfinite(self.value):
            return "ERROR"
        return "PASS" if self.passed else "MISS"


@dataclass
class Result:
    options: Options
    build_seconds: float
    total_seconds: float = 0.0
    ratios: list[Ratio] = field(default_factory=list)
    #: (title, ratio) shown for reference, without a target
    references: list[tuple[str, float]] = field(default_factory=list)
    #: comparison name -> why it could not be measured
    errors: dict[str, str] = field(default_factory=dict)
    measures: dict[str, list[Measure]] = field(default_factory=dict)
    saves: dict[str, list[float]] = field(default_factory=dict)
    save_queries: dict[str, int] = field(default_factory=dict)
    profile: str = ""

    @property
    def all_passed(self) -> bool:
        return not self.errors and all(r.passed for r in self.ratios)


class QueryCounter:
    """Counts the SQL statements (not BEGIN) sent through some engines."""

    def __init__(self, *engines):
        self.count = 0
        self.engines = engines

    def _on_execute(self, conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith("BEGIN"):
            self.count += 1

    def __enter__(self):
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc):
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._on_execute)


def fuwu_app(site):
    """fuwu's app, plus an empty signed-in page to time the pipeline alone."""
    app = create_app(site)

    @requires(AUTHENTICATED)
    def bench_empty(request):
        return Response(b"ok", media_type="text/plain")

    app.router.routes.append(Route("/_bench/empty", bench_empty))
    return app


async def compare(options: Options, sides: list[tuple[str, object, Call]], *, requests: int,
                  serial_requests: int, engines=()) -> list[Measure]:
    """Warm up, count queries, then alternate the sides over the rounds."""
    measures = []
    for label, app, request in sides:
        measure = Measure(label)
        for _ in range(options.warmup):
            body = await check(app, request)
        measure.body_bytes = len(body)
        with QueryCounter(*engines) as counter:
            await check(app, request)
        measure.queries = counter.count
        measures.append(measure)
    chunks = max(1, min(LOAD_CHUNKS, requests // (2 * options.concurrency)))
    for round_no in range(options.rounds):
        # A round's load on each side comes in chunks, the sides taking turns
        # (A B, B A, …), so a burst of load from elsewhere hits both sides.
        loaded: list[Batch | None] = [None] * len(sides)
        for chunk in range(chunks):
            order = list(range(len(sides)))
            if (round_no + chunk) % 2:
                order.reverse()
            size = requests // chunks + (1 if chunk < requests % chunks else 0)
            for i in order:
                _label, app, request = sides[i]
                done = await batch(app, request, size, options.concurrency)
                loaded[i] = done if loaded[i] is None else loaded[i] + done
        for measure, done in zip(measures, loaded, strict=True):
            measure.loaded.append(done)
        turns = [(app, request) for _label, app, request in sides]
        if round_no % 2:
            turns.reverse()
        serial = await interleaved(turns, serial_requests)
        if round_no % 2:
            serial.reverse()
        for measure, latencies in zip(measures, serial, strict=True):
            measure.serial.extend(latencies)
    return measures


def fuwu_save(site, admin_id: int, customer_id: int, address: str) -> None:
    """A versioned ORM save: audit rows come from the flush listener,
    the timeline entry from the caller, all in one transaction."""
    with site.db.session(actor_id=admin_id) as db:
        customer = db.get(Customer, customer_id)
        customer.address = address
        timeline.append(db, customer_id, "Address changed to %(address)s", kind="note", address=address)


def plain_orm_save(site, customer_id: int, address: str) -> None:
    """For reference: the same change through a plain SQLAlchemy session,
    without fuwu's listeners (no audit rows, no events) and no timeline
    entry; the version check stays (it is part of the mapping)."""
    with Session(site.db.engine) as db, db.begin():
        db.get(Customer, customer_id).address = address


SAVE_BLOCK = 10
#: the reference side no design can beat (``baseline.floor_engine``)
FLOOR = "one UPDATE + triggers"
#: throughput batches per side per round
LOAD_CHUNKS = 5


@dataclass
class SaveSide:
    label: str
    save: Callable[..., None]
    #: run before each save, untimed; what it returns is passed on to ``save``
    prepare: Callable[[int], tuple] = lambda _cid: ()
    #: each save writes an audit row (at least) and a timeline entry
    writes_history: bool = False


def time_saves(options: Options, bench_site: data.BenchSite, engine, result: Result) -> None:
    site = bench_site.site
    actor = bench_site.admin_id
    with site.db.session(write=False) as db:
        low, high = db.execute(select(func.min(Customer.id), func.max(Customer.id))).one()
        audits_before = db.scalar(select(func.count()).select_from(AuditEntry))
        entries_before = db.scalar(select(func.count()).select_from(TimelineEntry))
    rng = random.Random(7)
    floor = baseline.floor_engine(bench_site.database_path)

    def version_of(cid: int) -> tuple:
        # what the edit form carried, read untimed: a form save does not read first
        with engine.connect() as conn:
            return (conn.scalar(select(baseline.customer.c.version).where(baseline.customer.c.id == cid)),)

    sides = [
        SaveSide("Core UPDATE", lambda cid, address: baseline.core_save(engine, cid, address)),
        SaveSide("fuwu ORM save", lambda cid, address: fuwu_save(site, actor, cid, address), writes_history=True),
        SaveSide("Core, same 4 statements",
                 lambda cid, address: baseline.core_save_same_writes(engine, cid, address, actor),
                 writes_history=True),
        SaveSide("plain ORM save", lambda cid, address: plain_orm_save(site, cid, address)),
        SaveSide(FLOOR, lambda cid, address, version: baseline.floor_save(floor, cid, version, address, actor),
                 prepare=version_of, writes_history=True),
    ]
    counter = 0

    def address() -> str:
        nonlocal counter
        counter += 1
        return f"杭州市西湖区文三路 {counter} 号"

    #: saves that wrote history: one audit row (or more) and one timeline entry each
    with_history = 0
    try:
        for side in sides:
            for _ in range(options.warmup):
                cid = rng.randint(low, high)
                side.save(cid, address(), *side.prepare(cid))
            cid = rng.randint(low, high)
            extra = side.prepare(cid)
            with QueryCounter(site.db.engine, engine, floor) as queries:
                side.save(cid, address(), *extra)
            result.save_queries[side.label] = queries.count
            with_history += (options.warmup + 1) * side.writes_history
            result.saves[side.label] = []
        # Sides take turns in blocks: a write through one engine makes the next
        # transaction on another connection reload SQLite's page cache, which
        # turn-by-turn would charge to whichever side follows the other.
        for round_no in range(options.rounds):
            turns = sides if round_no % 2 == 0 else list(reversed(sides))
            done = 0
            while done < options.saves:
                block = [rng.randint(low, high) for _ in range(min(SAVE_BLOCK, options.saves - done))]
                done += len(block)
                for side in turns:
                    for cid in block:
                        value, extra = address(), side.prepare(cid)
                        start = perf_counter()
                        side.save(cid, value, *extra)
                        result.saves[side.label].append(perf_counter() - start)
                        with_history += side.writes_history
    finally:
        floor.dispose()
    with site.db.session(write=False) as db:
        audits = db.scalar(select(func.count()).select_from(AuditEntry)) - audits_before
        entries = db.scalar(select(func.count()).select_from(TimelineEntry)) - entries_before
    # Proof every side did what it claims: one audit row (address) and one timeline
    # entry per save, from fuwu's save and from the two reference sides that write history.
    if audits < with_history or entries != with_history:
        raise CheckFailed(f"{with_history} saves that write history wrote {audits} audit rows "
                          f"and {entries} timeline entries, expected one of each per save")


def deep_cursor(site, fraction: float) -> tuple[str, int, str]:
    """The cursor of the row at ``fraction`` of the list, its position, and
    the name of the next row (the first the deep page must show)."""
    with site.db.session(write=False) as db:
        total = db.scalar(select(func.count()).select_from(Customer))
        position = min(total - 2, max(0, int(total * fraction) - 1))
        (name, row_id), (next_name, _) = db.execute(
            select(Customer.name, Customer.id).order_by(Customer.name, Customer.id).offset(position).limit(2)).all()
    return encode(name, row_id), position + 1, next_name


async def run_requests(options: Options, bench_site: data.BenchSite, engine, result: Result) -> None:
    site = bench_site.site
    app = fuwu_app(site)
    bare = baseline.create_app(engine)
    cookie = (("cookie", f"{sessions.COOKIE}={bench_site.session_token}"),)
    with site.db.session(write=False) as db:
        first_name = db.scalar(select(Customer.name).order_by(Customer.name, Customer.id).limit(1))
    full = Call("/customers", cookie, expect=first_name)
    fragment = Call("/customers", cookie + (("HX-Request", "true"),), expect=first_name, reject="<html")
    cursor, position, after_name = deep_cursor(site, options.deep_fraction)
    deep = Call(f"/customers?after={cursor}", cookie, expect=after_name)
    engines = (site.db.engine, engine)
    kw = dict(requests=options.requests, serial_requests=options.serial_requests, engines=engines)

    comparisons = {
        "list": ([("baseline list", bare, Call("/customers", expect=first_name)),
                  ("fuwu list", app, full)], kw),
        "pipeline": ([("bare hello", bare, Call("/hello")),
                      ("fuwu empty page", app, Call("/_bench/empty", cookie))],
                     dict(requests=options.fast_requests, serial_requests=options.fast_requests // 2,
                          engines=engines)),
        "htmx": ([("fuwu full page", app, full), ("fuwu htmx fragment", app, fragment)], kw),
        "bare htmx": ([("baseline full page", bare, Call("/customers", expect=first_name)),
                       ("baseline htmx fragment", bare,
                        Call("/customers", (("HX-Request", "true"),), expect=first_name, reject="<html"))], kw),
        "deep": ([("fuwu page 1", app, full), (f"fuwu row {position:,}", app, deep)], kw),
    }
    for name, (sides, kwargs) in comparisons.items():
        try:
            result.measures[name] = await compare(options, sides, **kwargs)
        except CheckFailed as exc:
            # A broken page is a finding of its own; the other comparisons still run.
            result.errors[name] = str(exc)
    if options.profile:
        from .profile import profile_requests

        result.profile = await profile_requests(app, full, max(200, options.requests))


RATIOS = [
    # key, title, comparison, (side A, side B) -> value, target
    ("list_throughput", "list page throughput, fuwu / baseline", "list",
     lambda base, fuwu: fuwu.throughput / base.throughput, Target(True, 0.6)),
    ("list_p50", "list page p50 latency, fuwu / baseline", "list",
     lambda base, fuwu: fuwu.p(50) / base.p(50), Target(False, 1.5)),
    ("list_p99", "list page p99 latency, fuwu / baseline", "list",
     lambda base, fuwu: fuwu.p(99) / base.p(99), Target(False, 2.0)),
    ("pipeline_throughput", "empty page throughput, fuwu stack / bare Starlette", "pipeline",
     lambda hello, empty: empty.throughput / hello.throughput, Target(True, 0.5)),
    ("htmx_throughput", "htmx fragment throughput / full page", "htmx",
     lambda page, fragment: fragment.throughput / page.throughput, Target(True, 1.5)),
    ("deep_page_time", "deep keyset page p50 time / page 1", "deep",
     lambda first, deep: deep.p(50) / first.p(50), Target(False, 1.2)),
    ("save_time", "versioned save p50 time, ORM+audit+timeline / Core UPDATE", "save",
     lambda core, orm: statistics.median(orm) / statistics.median(core), Target(False, 1.3)),
]


def compute_ratios(result: Result) -> None:
    sides = dict(result.measures)
    if {"Core UPDATE", "fuwu ORM save"} <= set(result.saves):
        sides["save"] = [result.saves["Core UPDATE"], result.saves["fuwu ORM save"]]
    result.ratios = [
        Ratio(key, title, value(*sides[name]) if name in sides else math.nan, target)
        for key, title, name, value, target in RATIOS
    ]
    if "Core, same 4 statements" in result.saves:
        fuwu = statistics.median(result.saves["fuwu ORM save"])
        result.references = [("save p50 time, fuwu ORM / Core with the same 4 statements",
                              fuwu / statistics.median(result.saves["Core, same 4 statements"]))]
        if "plain ORM save" in result.saves:
            result.references.append(("save p50 time, fuwu / plain ORM save (no audit, no timeline)",
                                      fuwu / statistics.median(result.saves["plain ORM save"])))
    if "bare htmx" in result.measures:
        page, fragment = result.measures["bare htmx"]
        result.references.insert(0, ("htmx fragment throughput / full page, baseline",
                                     fragment.throughput / page.throughput))
    if FLOOR in result.saves:
        result.references.append(("save p50 time, one UPDATE, audit + timeline by trigger / Core UPDATE",
                                  statistics.median(result.saves[FLOOR])
                                  / statistics.median(result.saves["Core UPDATE"])))


def report(result: Result, out: TextIO) -> None:
    o = result.options
    w = out.write
    w(f"\nfuwu benchmark: SQLite, {o.customers:,} customers, in-process ASGI, "
      f"{o.concurrency} in flight, {o.rounds} rounds (built in {result.build_seconds:.1f} s, "
      f"total {result.total_seconds:.0f} s)\n\n")
    references = [("(reference) " + title, value) for title, value in result.references]
    width = max(len(title) for title in [r.title for r in result.ratios] + [t for t, _v in references])
    w(f"  {'ratio':<{width}} {'measured':>9}  {'target':<9} verdict\n")
    for r in result.ratios:
        value = f"{r.value:>8.2f}x" if math.isfinite(r.value) else f"{'n/a':>9}"
        w(f"  {r.title:<{width}} {value}  {str(r.target):<9} {r.verdict}\n")
    for title, value in references:
        w(f"  {title:<{width}} {value:>8.2f}x  no target\n")
    passed = sum(r.passed for r in result.ratios)
    w(f"\n  {passed} of {len(result.ratios)} targets met.\n")
    for name, error in result.errors.items():
        w(f"  ERROR in {name!r}: {error}\n")
    w("\n")

    w(f"  {'side':<24} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p50@' + str(o.concurrency):>8} "
      f"{'p99@' + str(o.concurrency):>8} {'SQL/req':>8} {'KiB':>7}\n")
    for name in ("list", "pipeline", "htmx", "bare htmx", "deep"):
        for s in result.measures.get(name, []):
            w(f"  {s.label:<24} {s.throughput:>8.0f} {s.p(50) * 1e3:>8.2f} {s.p(99) * 1e3:>8.2f} "
              f"{s.loaded_p(50) * 1e3:>8.2f} {s.loaded_p(99) * 1e3:>8.2f} {s.queries:>8} "
              f"{(s.body_bytes or 0) / 1024:>7.1f}\n")
    for label, times in result.saves.items():
        ordered = sorted(times)
        w(f"  {label:<24} {len(times) / sum(times):>8.0f} {statistics.median(times) * 1e3:>8.2f} "
          f"{ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)] * 1e3:>8.2f} {'':>8} {'':>8} "
          f"{result.save_queries.get(label, 0):>8}\n")
    w("\n  req/s: median over rounds at the given concurrency; p50/p99: one request at a time;\n"
      "  p50@N/p99@N: under load; SQL/req: statements per request (BEGIN not counted).\n")
    if result.profile:
        w("\n" + result.profile + "\n")


def run(options: Options, out: TextIO = sys.stdout) -> Result:
    """Build the site, run every comparison, print the report."""
    temp = None
    home = options.home
    if home is None:
        temp = Path(tempfile.mkdtemp(prefix="fuwu-bench-"))
        home = temp
    bench_site = engine = None
    started = perf_counter()
    try:
        out.write(f"building a site with {options.customers:,} customers in {home} ...\n")
        out.flush()
        bench_site = data.build(home / "site", options.customers)
        engine = baseline.bare_engine(bench_site.database_path)
        result = Result(options, perf_counter() - started)
        out.write("timing pages ...\n")
        out.flush()
        anyio.run(run_requests, options, bench_site, engine, result)
        out.write("timing saves ...\n")
        out.flush()
        try:
            time_saves(options, bench_site, engine, result)
        except CheckFailed as exc:
            result.errors["save"] = str(exc)
        compute_ratios(result)
        result.total_seconds = perf_counter() - started
        report(result, out)
    finally:
        if engine is not None:
            engine.dispose()
        if bench_site is not None:
            bench_site.close()
        if temp is not None and not options.keep:
            shutil.rmtree(temp, ignore_errors=True)
        elif options.keep:
            out.write(f"kept the site in {home / 'site'}\n")
    return result
