"""The benchmark machinery still works (tiny sizes; timings are not judged).

``make bench`` is not part of ``make test``; this runs the same code with a
few hundred customers and a handful of requests, so a change that breaks a
benchmarked page, the baseline or the report shows up here. It always uses
SQLite in its own folder, like the benchmark.
"""

from __future__ import annotations

import io
import math
import re
import threading

import anyio
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bench import Options, run
from bench.data import customer_rows
from bench.driver import Call, CheckFailed, check, interleaved
from bench.runner import RATIOS


def in_fresh_thread(work):
    """Run ``work`` in a new thread: a browser test earlier in this process
    leaves Playwright's event loop on the main thread, and asyncio refuses a
    second loop there."""
    outcome = {}

    def target():
        try:
            outcome["value"] = work()
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def test_every_ratio_is_measured_and_printed(tmp_path):
    out = io.StringIO()
    result = in_fresh_thread(lambda: run(Options(
        customers=300, requests=6, serial_requests=6, fast_requests=12, saves=4, warmup=2,
        rounds=2, concurrency=2, home=tmp_path), out))
    text = out.getvalue()

    assert result.errors == {}, text
    assert [r.key for r in result.ratios] == [key for key, *_ in RATIOS]
    for ratio in result.ratios:
        assert math.isfinite(ratio.value) and ratio.value > 0, (ratio.key, ratio.value)
        line = next((line for line in text.splitlines() if ratio.title in line), None)
        assert line is not None, f"{ratio.title!r} not printed:\n{text}"
        printed = re.search(r"([0-9.]+)x\s+([<>]= [0-9.]+x)\s+(PASS|MISS)$", line)
        assert printed, line
        assert printed.group(1) == f"{ratio.value:.2f}"
        assert printed.group(2) == str(ratio.target)
        assert printed.group(3) == ratio.verdict
    # every timed side reports its queries, and fuwu's pages do query
    sides = {m.label: m for pair in result.measures.values() for m in pair}
    assert sides["fuwu list"].queries > sides["bare hello"].queries == 0
    assert "fuwu ORM save" in text and "Core UPDATE" in text


def test_the_site_has_believable_distinct_customers():
    rows = customer_rows(2000, department_id=None)
    names = [r["name"] for r in rows]
    assert len(set(names)) == 2000
    assert all(re.fullmatch(r"[\u4e00-\u9fff]+", n) for n in names)
    assert {r["region"] for r in rows} == {"华东", "华北", "华南", "华中", "西南", "西北", "东北"}
    again = customer_rows(2000, department_id=None)
    assert [r["name"] for r in again] == names and [r["phone"] for r in again] == [r["phone"] for r in rows]


def test_a_broken_page_is_an_error_not_a_timing():
    def boom(request):
        raise RuntimeError("broken page")

    app = Starlette(routes=[Route("/ok", lambda r: PlainTextResponse("fine")), Route("/boom", boom)])

    async def main():
        assert await check(app, Call("/ok", expect="fine")) == b"fine"
        with pytest.raises(CheckFailed, match="answered 500"):
            await check(app, Call("/boom"))
        with pytest.raises(CheckFailed, match="lacks"):
            await check(app, Call("/ok", expect="other"))
        with pytest.raises(CheckFailed):
            await interleaved([(app, Call("/ok")), (app, Call("/boom"))], 2)

    in_fresh_thread(lambda: anyio.run(main))
