"""The travel regulation as tables of cases: TRV-1 standards by grade and
date, TRV-2 lodging cap, TRV-3 trip days around 12:00, TRV-6 settlement."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from fuwu_plugins.travel_expense import rules

SH = ZoneInfo("Asia/Shanghai")


def at(day: int, hh: int, mm: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=SH)


@pytest.mark.parametrize("departed, returned, days", [
    # same day: one day only when the trip spans 12:00
    (at(2, 8), at(2, 18), "1"),
    (at(2, 8), at(2, 11, 30), "0.5"),
    (at(2, 13), at(2, 20), "0.5"),
    (at(2, 8), at(2, 12), "0.5"),        # back exactly at 12:00: half
    (at(2, 12), at(2, 18), "0.5"),       # leaving exactly at 12:00: half
    (at(2, 11, 59), at(2, 12, 1), "1"),
    # two days, every combination around 12:00 on both ends
    (at(2, 11, 59), at(3, 12, 1), "2"),
    (at(2, 11, 59), at(3, 12), "1.5"),
    (at(2, 12), at(3, 12, 1), "1.5"),
    (at(2, 12), at(3, 12), "1"),
    (at(2, 14), at(3, 9), "1"),
    # multi-day: the days between count in full
    (at(2, 9), at(4, 10), "2.5"),
    (at(2, 9), at(4, 18), "3"),
    (at(2, 15), at(6, 10), "4"),
    (at(28, 20, month=2), at(2, 13), "2.5"),   # across a month end (2026 is not a leap year)
])
def test_trip_days_trv3(departed, returned, days):
    assert rules.trip_days(departed, returned) == Decimal(days)


def test_trip_days_use_local_time_and_a_configured_cutoff():
    utc = ZoneInfo("UTC")
    # 03:30 UTC is 11:30 in Shanghai: a morning departure, a full day
    assert rules.trip_days(datetime(2026, 3, 2, 3, 30, tzinfo=utc), at(3, 18)) == Decimal("2")
    assert rules.trip_days(at(2, 10), at(3, 18), cutoff=time(9, 0)) == Decimal("1.5")


@pytest.mark.parametrize("departed, returned", [(at(3, 9), at(2, 9)), (at(2, 9), at(2, 9))])
def test_return_before_or_at_departure_is_refused(departed, returned):
    with pytest.raises(ValueError):
        rules.trip_days(departed, returned)


@pytest.mark.parametrize("actual, nights, paid, bears", [
    ("200.00", 2, "200.00", "0.00"),   # below the cap: only the actual amount
    ("240.00", 2, "240.00", "0.00"),   # at the cap
    ("260.00", 2, "240.00", "20.00"),  # above: the excess is the employee's
    ("119.99", 1, "119.99", "0.00"),
    ("500.00", 1, "120.00", "380.00"),
])
def test_lodging_cap_trv2(actual, nights, paid, bears):
    _limit, got_paid, got_bears = rules.lodging(Decimal(actual), nights, Decimal("120.00"))
    assert (got_paid, got_bears) == (Decimal(paid), Decimal(bears))


GENERAL = rules.Standard("junior", "train_hard_sleeper", Decimal("120.00"), Decimal("30.00"))


def render(result):
    return [message % params for message, params in result.explanation]


def test_compute_explains_every_amount_line_by_line():
    lines = [rules.Line("transport", Decimal("180.00"), "上海-苏州", transport_class="train_hard_seat"),
             rules.Line("lodging", Decimal("260.00"), "汉庭", nights=2, invoice=True),
             rules.Line("local", Decimal("35.50"), "出租车")]
    result = rules.compute(lines, Decimal("2.5"), GENERAL)
    text = render(result)
    assert text[0] == "Meals: 2.5 days x 30.00 = 75.00"
    assert "lodging 2 nights: actual 260.00, cap 240.00, paid 240.00, employee bears 20.00" in text[2]
    assert text[-1] == "Total payable: 530.50"
    assert result.total == Decimal("530.50") and result.employee_bears == Decimal("20.00")
    assert not result.above_class and not result.errors


def test_transport_above_the_grade_class_is_flagged_trv1():
    result = rules.compute([rules.Line("transport", Decimal("900"), "飞机", transport_class="plane_economy")],
                           Decimal("1"), GENERAL)
    assert result.above_class and "above the standard" in render(result)[1]
    assert rules.class_allowed("train_hard_seat", "train_hard_sleeper")
    assert not rules.class_allowed("train_soft_sleeper", "train_hard_sleeper")


def test_lodging_without_invoice_is_an_error_trv2():
    result = rules.compute([rules.Line("lodging", Decimal("100"), nights=1)], Decimal("1"), GENERAL)
    assert result.errors


def test_grade_change_in_the_middle_of_the_year_trv1():
    rows = [SimpleNamespace(grade="junior", effective_from=date(2026, 1, 1), transport_class="train_hard_sleeper",
                            lodging_cap=Decimal("120"), meal_rate=Decimal("30")),
            SimpleNamespace(grade="junior", effective_from=date(2026, 7, 1), transport_class="train_hard_sleeper",
                            lodging_cap=Decimal("150"), meal_rate=Decimal("40")),
            SimpleNamespace(grade="manager", effective_from=date(2026, 1, 1), transport_class="train_soft_sleeper",
                            lodging_cap=Decimal("200"), meal_rate=Decimal("50"))]
    june = rules.pick_standard(rows, "junior", date(2026, 6, 30), GENERAL)
    july = rules.pick_standard(rows, "junior", date(2026, 7, 1), GENERAL)
    assert (june.lodging_cap, june.meal_rate) == (Decimal("120.00"), Decimal("30.00"))
    assert (july.lodging_cap, july.meal_rate) == (Decimal("150.00"), Decimal("40.00"))
    # promoted to manager in the middle of the year: the manager's row applies from then on
    assert rules.pick_standard(rows, "manager", date(2026, 8, 1), GENERAL).meal_rate == Decimal("50.00")
    # a grade without rows, or a date before the first row: the general-staff settings
    assert rules.pick_standard(rows, "senior", date(2026, 8, 1), GENERAL).lodging_cap == Decimal("120.00")
    assert rules.pick_standard(rows, "manager", date(2025, 12, 31), GENERAL).meal_rate == Decimal("30.00")


@pytest.mark.parametrize("payable, advance, kind, amount", [
    ("530.50", "800.00", "refund", "269.50"),
    ("530.50", "500.00", "payout", "30.50"),
    ("500.00", "500.00", "even", "0.00"),
    ("120.00", "0.00", "payout", "120.00"),
])
def test_settlement_against_the_advance_trv6(payable, advance, kind, amount):
    got_kind, got_amount, _line = rules.settlement(Decimal(payable), Decimal(advance))
    assert (got_kind, got_amount) == (kind, Decimal(amount))


@pytest.mark.parametrize("filed, late", [(date(2026, 3, 11), False), (date(2026, 3, 12), True)])
def test_claim_due_within_the_week_after_return_trv6(filed, late):
    assert rules.claim_due(date(2026, 3, 4), 7) == date(2026, 3, 11)
    assert rules.is_late(date(2026, 3, 4), filed, 7) is late


def test_service_record_overdue_trv8():
    assert not rules.record_overdue(date(2026, 3, 4), date(2026, 3, 7), 3)
    assert rules.record_overdue(date(2026, 3, 4), date(2026, 3, 8), 3)
