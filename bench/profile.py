"""Where a page's time goes: a small sampling profiler (``--profile``).

fuwu runs handlers in worker threads, which ``cProfile`` (current thread
only) does not see. A background thread samples every other thread's stack
every millisecond instead; a function's share of the samples in which it is
on the stack ("total") or on top ("self") approximates its share of time.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import Counter
from time import sleep

from .driver import Call, batch

INTERVAL = 0.001
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Sampler:
    def __init__(self):
        self.total: Counter[str] = Counter()
        self.own: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-sampler", daemon=True)

    def _loop(self) -> None:
        me = threading.get_ident()
        while not self._stop.is_set():
            for ident, frame in sys._current_frames().items():
                if ident == me or frame.f_code.co_name in {"wait", "_wait_for_tstate_lock", "select"}:
                    continue  # idle threads say nothing about the page
                seen = set()
                top = True
                while frame is not None:
                    name = _name(frame)
                    if top:
                        self.own[name] += 1
                        top = False
                    if name not in seen:
                        self.total[name] += 1
                        seen.add(name)
                    frame = frame.f_back
                self.samples += 1
            sleep(INTERVAL)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def table(self, rows: int = 25, *, only_fuwu: bool = False) -> str:
        counter = self.total
        lines = []
        for name, count in counter.most_common():
            if only_fuwu and not name.startswith(("fuwu", "core/")):
                continue
            share = 100 * count / max(1, self.samples)
            own = 100 * self.own[name] / max(1, self.samples)
            lines.append(f"  {share:5.1f}% {own:5.1f}%  {name}")
            if len(lines) >= rows:
                break
        return "\n".join(lines)


def _name(frame) -> str:
    path = frame.f_code.co_filename
    if path.startswith(HERE):
        path = os.path.relpath(path, HERE)
    else:
        for marker in ("site-packages/", "lib/python"):
            if marker in path:
                path = path.split(marker, 1)[1]
                break
    return f"{path}:{frame.f_code.co_firstlineno} {frame.f_code.co_name}"


async def profile_requests(app, request: Call, requests: int) -> str:
    """Profile ``requests`` calls of ``request`` sent one at a time."""
    # The sampler needs the GIL to look; switching often keeps pure-Python
    # work from hiding behind the calls that release it (SQLite).
    interval = sys.getswitchinterval()
    sys.setswitchinterval(INTERVAL / 5)
    try:
        with Sampler() as sampler:
            await batch(app, request, requests, 1)
    finally:
        sys.setswitchinterval(interval)
    return (f"profile of {requests} x GET {request.url} (fuwu), {sampler.samples} samples; "
            f"total% = on the stack, self% = on top\n"
            f"  total%  self%  function\n{sampler.table(40)}\n\n  fuwu code only:\n"
            f"{sampler.table(25, only_fuwu=True)}")
