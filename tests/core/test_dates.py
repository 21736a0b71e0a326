"""The month arithmetic plugins share (``fuwu.dates``)."""

from __future__ import annotations

from datetime import date

import pytest

from fuwu.dates import add_months


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2026, 11, 1), 1, date(2026, 12, 1)),
    (date(2026, 12, 1), 1, date(2027, 1, 1)),      # into the next year
    (date(2026, 1, 1), -1, date(2025, 12, 1)),     # back into the last one
    (date(2026, 1, 31), 1, date(2026, 2, 28)),     # clipped to a short month's end
    (date(2028, 1, 31), 1, date(2028, 2, 29)),     # a leap year's February
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
    (date(2026, 5, 15), 24, date(2028, 5, 15)),
    (date(2026, 5, 15), -17, date(2024, 12, 15)),
])
def test_add_months_keeps_the_day_within_the_month(day, months, expected):
    assert add_months(day, months) == expected
