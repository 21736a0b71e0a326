"""RES-2, RES-4, RES-5, RES-6 as tables of cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from fuwu_plugins.onsite_residency import rules

MONEY = {"allowance": Decimal("300.00"), "engineer_fine": Decimal("200.00"), "lead_fine": Decimal("100.00")}


@pytest.mark.parametrize("rating, on_time, expected", [
    ("very_good", True, [("engineer", "300.00", "RES-4")]),
    ("very_good", False, [("engineer", "0.00", "RES-4")]),
    ("good", True, [("engineer", "300.00", "RES-4")]),
    ("good", False, [("engineer", "0.00", "RES-4")]),
    ("average", True, [("engineer", "0.00", "RES-4")]),
    ("average", False, [("engineer", "0.00", "RES-4")]),
    ("fairly_poor", True, [("engineer", "-200.00", "RES-5"), ("lead", "-100.00", "RES-5")]),
    ("fairly_poor", False, [("engineer", "-200.00", "RES-5"), ("lead", "-100.00", "RES-5")]),
    ("poor", True, [("engineer", "-200.00", "RES-5"), ("lead", "-100.00", "RES-5")]),
    ("poor", False, [("engineer", "-200.00", "RES-5"), ("lead", "-100.00", "RES-5")]),
])
def test_allowance_and_penalty_table(rating, on_time, expected):
    got = rules.month_outcomes(rating, on_time, **MONEY)
    assert [(o.role, f"{o.amount:.2f}", o.rule) for o in got] == expected


def test_reason_names_rating_timeliness_and_amount():
    (o,) = rules.month_outcomes("good", True, **MONEY)
    assert o.reason % o.params == "rated good; documents on time -> 300.00"
    (o,) = rules.month_outcomes("very_good", False, **MONEY)
    assert o.reason % o.params == "rated very good; documents late -> 0.00"
    eng, lead = rules.month_outcomes("poor", True, **MONEY)
    assert eng.reason % eng.params == "rated poor -> -200.00"


def test_amounts_are_settings():
    (o,) = rules.month_outcomes("good", True, allowance=Decimal("350.00"), engineer_fine=Decimal("1"),
                                lead_fine=Decimal("1"))
    assert o.amount == Decimal("350.00")


T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("ack, reached, ok", [
    (None, 5, True),          # on the spot within 5 minutes
    (None, 6, False),
    (1, 30, True),            # busy: acknowledged within 1 minute
    (2, 30, False),
    (None, None, False),
    (2, 5, True),
])
def test_response_limits(ack, reached, ok):
    at = lambda m: None if m is None else T0 + timedelta(minutes=m)  # noqa: E731
    assert rules.call_compliant(T0, at(ack), at(reached), reach_minutes=5, ack_minutes=1) is ok


class Calendar:
    """Weekends off; enough for the due-date rule."""

    def is_workday(self, day):
        return day.weekday() < 5


def test_due_date_moves_to_the_next_working_day_and_clips():
    assert rules.due_date(date(2026, 3, 1), 5) == date(2026, 4, 5)
    assert rules.due_date(date(2026, 3, 1), 5, Calendar()) == date(2026, 4, 6)  # 5 April 2026 is a Sunday
    assert rules.due_date(date(2026, 1, 1), 31) == date(2026, 2, 28)
    assert rules.on_time(date(2026, 4, 6), date(2026, 4, 6)) and not rules.on_time(date(2026, 4, 7), date(2026, 4, 6))
    assert not rules.on_time(None, date(2026, 4, 6))


def test_attendance_summary_counts_overtime_as_worked():
    s = rules.attendance_summary(["present", "present", "overtime", "leave", "absent"])
    assert (s["present"], s["overtime"], s["leave"], s["absent"], s["worked"]) == (2, 1, 1, 1, 3)


def test_stamp_hash_changes_with_the_content():
    a = rules.content_hash({"work_done": "巡检", "month": "2026-03"})
    assert a == rules.content_hash({"month": "2026-03", "work_done": "巡检"})
    assert a != rules.content_hash({"work_done": "巡检!", "month": "2026-03"})
