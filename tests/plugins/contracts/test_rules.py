"""rules.py of the contracts plugin: tables of cases, no database (CON-1..6)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from fuwu.calendar import WorkCalendar
from fuwu_plugins.contracts import rules
from fuwu_plugins.contracts.rules import Milestone, PeriodFacts, VisitFacts

SH = ZoneInfo("Asia/Shanghai")
WORKING = WorkCalendar()  # the site default: 09:00-12:00, 13:30-18:00, Chinese holidays
ROUND_THE_CLOCK = WorkCalendar(round_the_clock=True)
D = date


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SH)


# --- CON-1 / CON-2: where a service period starts and ends -----------------------------


@pytest.mark.parametrize("signed, installed, ends, expected", [
    # installation date known: the period starts on it (CON-1), ends with the contract (CON-2)
    (D(2026, 3, 1), D(2026, 3, 20), D(2027, 3, 19), (D(2026, 3, 20), D(2027, 3, 19))),
    # installation date unknown: the signing date
    (D(2026, 3, 1), None, D(2027, 2, 28), (D(2026, 3, 1), D(2027, 2, 28))),
    # installed on the signing day
    (D(2026, 3, 1), D(2026, 3, 1), D(2026, 3, 1), (D(2026, 3, 1), D(2026, 3, 1))),
    # no end date yet: no period
    (D(2026, 3, 1), D(2026, 3, 20), None, None),
    # installed after the contract's validity ended: no period
    (D(2026, 3, 1), D(2027, 4, 1), D(2027, 3, 19), None),
])
def test_first_period(signed, installed, ends, expected):
    assert rules.first_period(signed, installed, ends) == expected
    assert rules.period_start(signed, installed) == (installed or signed)


P1 = PeriodFacts(1, 10, 1, D(2025, 1, 1), D(2025, 12, 31), frozenset({100}))
P2 = PeriodFacts(2, 10, 1, D(2026, 1, 1), D(2026, 12, 31), frozenset({100}))
P3 = PeriodFacts(3, 11, 1, D(2026, 6, 1), D(2027, 5, 31))  # covers every product
P4 = PeriodFacts(4, 12, 2, D(2026, 1, 1), D(2026, 12, 31))
PERIODS = [P1, P2, P3, P4]


@pytest.mark.parametrize("customer, moment, product, expected", [
    (1, D(2025, 6, 1), None, P1),
    (1, D(2025, 6, 1), 100, P1),
    (1, D(2025, 6, 1), 101, None),          # P1's contract does not cover product 101
    (1, D(2026, 3, 1), None, P2),           # P3 has not started
    (1, D(2026, 3, 1), 101, None),
    (1, D(2026, 7, 1), 100, P3),            # two cover it: the one ending last wins
    (1, D(2026, 7, 1), 101, P3),
    (1, D(2027, 5, 31), None, P3),          # last day included
    (1, D(2027, 6, 1), None, None),
    (2, D(2026, 7, 1), None, P4),
    (3, D(2026, 7, 1), None, None),
    # 2025-12-31 17:00 UTC is already 2026-01-01 in Shanghai
    (1, datetime(2025, 12, 31, 17, tzinfo=timezone.utc), 100, P2),
    (1, datetime(2025, 12, 31, 15, tzinfo=timezone.utc), 100, P1),
])
def test_covering_period(customer, moment, product, expected):
    assert rules.covering_period(PERIODS, customer_id=customer, at=moment, product_id=product) == expected


def test_covering_period_refuses_naive_moments():
    with pytest.raises(ValueError):
        rules.covering_period(PERIODS, customer_id=1, at=datetime(2026, 1, 1, 10))


@pytest.mark.parametrize("start, end, exclude, clash", [
    (D(2026, 12, 31), D(2027, 6, 30), None, P2),  # one day shared
    (D(2027, 1, 1), D(2027, 12, 31), None, None),
    (D(2024, 1, 1), D(2024, 12, 31), None, None),
    (D(2026, 2, 1), D(2026, 3, 1), 2, None),      # editing P2 itself
    (D(2024, 6, 1), D(2027, 1, 1), 2, P1),        # a period swallowing another
])
def test_overlapping_periods_of_one_contract(start, end, exclude, clash):
    assert rules.overlapping([P1, P2], start, end, exclude) == clash


@pytest.mark.parametrize("current_end, months, expected", [
    (D(2026, 12, 31), 12, (D(2027, 1, 1), D(2027, 12, 31))),
    (D(2028, 2, 28), 12, (D(2028, 2, 29), D(2029, 2, 28))),   # from Feb 29: a year ends Feb 28
    (D(2027, 2, 28), 12, (D(2027, 3, 1), D(2028, 2, 29))),    # ...and into a leap year, Feb 29
    (D(2026, 1, 30), 1, (D(2026, 1, 31), D(2026, 2, 28))),
    (D(2026, 6, 30), 24, (D(2026, 7, 1), D(2028, 6, 30))),
])
def test_renewal_proposal(current_end, months, expected):
    assert rules.renewal_proposal(current_end, months) == expected


@pytest.mark.parametrize("left, expected", [(-1, "expired"), (0, "urgent"), (15, "urgent"), (16, "soon"),
                                            (30, "soon"), (31, "later")])
def test_urgency_colours(left, expected):
    assert rules.urgency(left, urgent_days=15, soon_days=30) == expected


@pytest.mark.parametrize("left, expected", [(61, None), (60, "window"), (16, "window"), (15, "urgent"),
                                            (0, "urgent"), (-1, "expired")])
def test_reminder_stage(left, expected):
    assert rules.reminder_stage(left, window_days=60, urgent_days=15) == expected


# --- CON-3: SLA milestones ---------------------------------------------------------------

WARRANTY = [Milestone("respond", "Respond", 2), Milestone("dispatch", "Dispatch", 8),
            Milestone("on_site", "On site", 24), Milestone("resolved", "Resolved", 48)]
FACTORY = [Milestone("proposal", "Proposal", 2, "days"), Milestone("repaired", "Repaired", 5, "days")]


def due(started, milestones, calendar):
    return {d.key: d.due for d in rules.milestone_deadlines(started, milestones, calendar)}


@pytest.mark.parametrize("started, expected", [
    # Friday 17:00: one hour on Friday, the rest from Monday 09:00 (lunch 12:00-13:30 skipped)
    (at(2026, 6, 5, 17), {"respond": at(2026, 6, 8, 10), "dispatch": at(2026, 6, 8, 17, 30),
                          "on_site": at(2026, 6, 11, 9, 30), "resolved": at(2026, 6, 16, 11)}),
    # eve of the National Day holiday: the clock stops from Oct 1 to Oct 7,
    # and runs on the make-up Saturday Oct 10
    (at(2026, 9, 30, 17), {"respond": at(2026, 10, 8, 10), "dispatch": at(2026, 10, 8, 17, 30),
                           "on_site": at(2026, 10, 12, 9, 30), "resolved": at(2026, 10, 15, 11)}),
    # raised on the make-up Saturday itself: a working day; Sunday is not
    (at(2026, 10, 10, 10), {"respond": at(2026, 10, 10, 12), "dispatch": at(2026, 10, 12, 10, 30),
                            "on_site": at(2026, 10, 14, 11, 30), "resolved": at(2026, 10, 19, 14, 30)}),
    # Friday 17:00 before the make-up Saturday: the response is due on that Saturday
    (at(2026, 10, 9, 17), {"respond": at(2026, 10, 10, 10), "dispatch": at(2026, 10, 10, 17, 30),
                           "on_site": at(2026, 10, 14, 9, 30), "resolved": at(2026, 10, 19, 11)}),
])
def test_warranty_milestones_on_working_hours(started, expected):
    assert due(started, WARRANTY, WORKING) == expected


@pytest.mark.parametrize("started, expected", [
    (at(2026, 6, 5, 17), {"respond": at(2026, 6, 5, 19), "dispatch": at(2026, 6, 6, 1),
                          "on_site": at(2026, 6, 6, 17), "resolved": at(2026, 6, 7, 17)}),
    (at(2026, 9, 30, 17), {"respond": at(2026, 9, 30, 19), "dispatch": at(2026, 10, 1, 1),
                           "on_site": at(2026, 10, 1, 17), "resolved": at(2026, 10, 2, 17)}),
    (at(2026, 10, 10, 10), {"respond": at(2026, 10, 10, 12), "dispatch": at(2026, 10, 10, 18),
                            "on_site": at(2026, 10, 11, 10), "resolved": at(2026, 10, 12, 10)}),
])
def test_out_of_warranty_milestones_run_7x24(started, expected):
    assert due(started, WARRANTY, ROUND_THE_CLOCK) == expected


@pytest.mark.parametrize("started, expected", [
    # solution proposal in 2 working days, repair in 5, keeping the time of day
    (at(2026, 6, 5, 17), {"proposal": at(2026, 6, 9, 17), "repaired": at(2026, 6, 12, 17)}),
    (at(2026, 9, 30, 17), {"proposal": at(2026, 10, 9, 17), "repaired": at(2026, 10, 13, 17)}),
    (at(2026, 10, 10, 10), {"proposal": at(2026, 10, 13, 10), "repaired": at(2026, 10, 16, 10)}),
])
def test_return_to_factory_repair_in_working_days(started, expected):
    assert due(started, FACTORY, WORKING) == expected


def test_deadlines_are_aware_and_local_whatever_the_input_zone():
    result = rules.milestone_deadlines(datetime(2026, 9, 30, 9, tzinfo=timezone.utc), WARRANTY[:1], WORKING)
    assert result[0].due == at(2026, 10, 8, 10) and result[0].due.tzinfo == SH  # 17:00 local + 2 h
    with pytest.raises(ValueError):
        rules.milestone_deadlines(datetime(2026, 9, 30, 17), WARRANTY, WORKING)


# --- CON-4: free visits ----------------------------------------------------------------------


def entitle(visits, policy="visits", free_visits=3, free_days=15):
    answers = rules.visit_entitlements(visits, policy=policy, free_visits=free_visits, free_days=free_days,
                                       calendar=WORKING)
    return [(answers[v.key].free, answers[v.key].ordinal) for v in visits]


W = D(2026, 3, 2)  # a window (service period) starting on a Monday


def test_first_three_visits_free_the_fourth_crosses_the_limit():
    visits = [VisitFacts(i, D(2026, 3, 1 + 5 * i), W) for i in range(1, 6)]
    assert entitle(visits) == [(True, 1), (True, 2), (True, 3), (False, 4), (False, 5)]
    answers = rules.visit_entitlements(visits, policy="visits", free_visits=3, free_days=15, calendar=WORKING)
    assert answers[3].reason == "Free visit %(n)s of %(limit)s" and answers[3].params == {"n": "3", "limit": "3"}
    assert answers[4].reason == "Visit %(n)s is beyond the %(limit)s free visits: charged"
    assert answers[4].params == {"n": "4", "limit": "3"}


@pytest.mark.parametrize("visits, expected", [
    # counted in date order, whatever order they were entered in
    ([VisitFacts("c", D(2026, 3, 20), W), VisitFacts("a", D(2026, 3, 5), W), VisitFacts("d", D(2026, 3, 25), W),
      VisitFacts("b", D(2026, 3, 10), W)], [(True, 3), (True, 1), (False, 4), (True, 2)]),
    # hardware follows the manufacturer's warranty and does not use a free visit
    ([VisitFacts(1, D(2026, 3, 5), W), VisitFacts(2, D(2026, 3, 6), W, "hardware", True),
      VisitFacts(3, D(2026, 3, 7), W, "hardware", False), VisitFacts(4, D(2026, 3, 8), W),
      VisitFacts(5, D(2026, 3, 9), W), VisitFacts(6, D(2026, 3, 10), W)],
     [(True, 1), (True, None), (False, None), (True, 2), (True, 3), (False, 4)]),
    # out of warranty: charged, and not counted
    ([VisitFacts(1, D(2026, 2, 1), None), VisitFacts(2, D(2026, 3, 5), W)], [(False, None), (True, 1)]),
    # a new period starts the count again
    ([VisitFacts(i, D(2026, 3, 2 + i), W) for i in range(4)]
     + [VisitFacts(9, D(2027, 3, 3), D(2027, 3, 2))], [(True, 1), (True, 2), (True, 3), (False, 4), (True, 1)]),
])
def test_visits_policy_cases(visits, expected):
    assert entitle(visits) == expected


def test_zero_free_visits_charges_the_first():
    assert entitle([VisitFacts(1, D(2026, 3, 5), W)], free_visits=0) == [(False, 1)]


MID_SEPT = D(2026, 9, 14)  # Monday; the 15 working days run into the National Day holiday


@pytest.mark.parametrize("day, free", [
    (D(2026, 9, 14), True),    # day 1
    (D(2026, 9, 20), True),    # make-up Sunday: working day 6
    (D(2026, 9, 25), True),    # Mid-Autumn Festival, inside the window
    (D(2026, 10, 3), True),    # National Day holiday: no working day passes
    (D(2026, 10, 9), True),    # the 15th working day: the last free one
    (D(2026, 10, 10), False),  # make-up Saturday: the 16th working day crosses the limit
    (D(2026, 10, 12), False),
])
def test_days_policy_counts_working_days_of_normal_use(day, free):
    answers = rules.visit_entitlements([VisitFacts(1, day, MID_SEPT)], policy="days", free_visits=3, free_days=15,
                                       calendar=WORKING)
    assert answers[1].free is free
    assert answers[1].params == {"limit": "15", "until": {"date": "2026-10-09"}}


@pytest.mark.parametrize("start, n, until", [
    (D(2026, 6, 8), 1, D(2026, 6, 8)),     # a working start day counts
    (D(2026, 6, 6), 1, D(2026, 6, 8)),     # a Saturday start: the first working day is Monday
    (D(2026, 9, 30), 2, D(2026, 10, 8)),
    (MID_SEPT, 15, D(2026, 10, 9)),
])
def test_free_until(start, n, until):
    assert rules.free_until(start, n, WORKING) == until


@pytest.mark.parametrize("free, decision, charged", [
    (True, None, False), (False, None, True),
    (False, "waive", False),  # the salesperson waived a disputed charge: the engineer follows
    (True, "charge", True), (False, "charge", True),
])
def test_decision_on_a_disputed_charge_stands(free, decision, charged):
    assert rules.is_charged(free, decision) is charged


def test_allowance_left():
    visits = rules.allowance(policy="visits", free_visits=3, free_days=15, window_start=W, used=2,
                             today=D(2026, 4, 1), calendar=WORKING)
    assert visits.visits_left == 1
    assert rules.allowance(policy="visits", free_visits=3, free_days=15, window_start=W, used=5,
                           today=D(2026, 4, 1), calendar=WORKING).visits_left == 0
    days = rules.allowance(policy="days", free_visits=3, free_days=15, window_start=MID_SEPT, used=0,
                           today=D(2026, 10, 8), calendar=WORKING)
    assert (days.free_until, days.working_days_left) == (D(2026, 10, 9), 2)
    assert rules.allowance(policy="days", free_visits=3, free_days=15, window_start=MID_SEPT, used=0,
                           today=D(2026, 10, 10), calendar=WORKING).working_days_left == 0
    assert rules.allowance(policy="visits", free_visits=3, free_days=15, window_start=None, used=0,
                           today=D(2026, 10, 10), calendar=WORKING) is None


# --- CON-5 / CON-6 -------------------------------------------------------------------------------


@pytest.mark.parametrize("state, expected", [("proposed", (0, 4)), ("agreed", (1, 4)), ("contacted", (2, 4)),
                                             ("updated", (3, 4)), ("done", (4, 4)), ("declined", None),
                                             (None, None)])
def test_renewal_progress(state, expected):
    assert rules.progress(state) == expected


@pytest.mark.parametrize("text, first", [("2026-10", D(2026, 10, 1)), ("2027-1", D(2027, 1, 1)),
                                         ("", D(2026, 11, 1)), ("2026-13", D(2026, 11, 1)),
                                         ("nonsense", D(2026, 11, 1)), (None, D(2026, 11, 1))])
def test_parse_month(text, first):
    assert rules.parse_month(text, D(2026, 11, 26)) == first
    assert rules.month_end(D(2028, 2, 1)) == D(2028, 2, 29)
