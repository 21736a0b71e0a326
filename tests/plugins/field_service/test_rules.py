"""RES-7 award tables, RES-8 bonus split tables and the departure check, on the plain rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from fuwu_plugins.field_service import rules
from fuwu_plugins.field_service.rules import AwardConfig, TechMonth


def tech(i, score, very, answered, complaints=0, jobs=None):
    return TechMonth(staff_id=i, name=f"t{i}", jobs=answered if jobs is None else jobs, score=score,
                     very_satisfied=very, answered=answered, complaints=complaints)


def outcome(rows):
    _ranking, results = rules.monthly_awards(rows, AwardConfig())
    return sorted((r.staff_id, r.kind, r.amount) for r in results)


@pytest.mark.parametrize("rows, expected", [
    # the two highest scores with >= 95 % get 100 and 70
    ([tech(1, 30, 20, 20), tech(2, 25, 19, 20), tech(3, 20, 20, 20)],
     [(1, "reward", D("100.00")), (2, "reward", D("70.00"))]),
    # exactly 95 % qualifies; 94.99 % does not (the next one moves up)
    ([tech(1, 30, 19, 20), tech(2, 29, 1899, 1999), tech(3, 10, 5, 5)],
     [(1, "reward", D("100.00")), (3, "reward", D("70.00"))]),
    # exactly 80 % is not fined; below 80 % is
    ([tech(1, 5, 8, 10), tech(2, 5, 79, 100)], [(2, "fine", D("-100.00"))]),
    # one complaint is allowed, two cost 100 and exclude from the prize
    ([tech(1, 30, 10, 10, complaints=2), tech(2, 20, 10, 10, complaints=1), tech(3, 10, 10, 10)],
     [(1, "fine", D("-100.00")), (2, "reward", D("100.00")), (3, "reward", D("70.00"))]),
    # a low rate and two complaints: still one fine
    ([tech(1, 30, 1, 10, complaints=3)], [(1, "fine", D("-100.00"))]),
    # fewer than two eligible: only the first prize
    ([tech(1, 30, 10, 10), tech(2, 40, 9, 10)], [(1, "reward", D("100.00"))]),
    # nobody eligible: nothing
    ([tech(1, 30, 9, 10)], []),
])
def test_award_tables(rows, expected):
    assert outcome(rows) == expected


def test_ties_share_the_place_and_its_prize():
    # equal score, rate and jobs: both first (100 each), the next is third -> no prize
    rows = [tech(1, 30, 10, 10), tech(2, 30, 10, 10), tech(3, 20, 10, 10)]
    assert outcome(rows) == [(1, "reward", D("100.00")), (2, "reward", D("100.00"))]
    # equal score: the higher rate wins
    rows = [tech(1, 30, 19, 20), tech(2, 30, 20, 20)]
    assert outcome(rows) == [(1, "reward", D("70.00")), (2, "reward", D("100.00"))]
    # tie for second: both get 70
    rows = [tech(1, 40, 10, 10), tech(2, 30, 10, 10), tech(3, 30, 10, 10)]
    assert outcome(rows) == [(1, "reward", D("100.00")), (2, "reward", D("70.00")), (3, "reward", D("70.00"))]


def test_no_jobs_no_answers():
    # no finished job: no rank, no rate fine; complaints still count
    assert outcome([tech(1, 0, 0, 0, complaints=2, jobs=0)]) == [(1, "fine", D("-100.00"))]
    # jobs but nobody answered the return visit: no rate -> no prize, no rate fine
    assert outcome([tech(1, 30, 0, 0, jobs=5)]) == []


def test_departure_check_edge():
    assigned = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert rules.left_in_time(assigned, assigned + timedelta(minutes=10), 10)
    assert not rules.left_in_time(assigned, assigned + timedelta(minutes=10, seconds=1), 10)
    assert rules.left_in_time(assigned, assigned + timedelta(minutes=14), 15)


def split(amount, people, late=None):
    return rules.bonus_split(D(amount), people, late or {}, manager_weight=D("1.2"), member_weight=D("1.0"),
                             late_percent=D("5"))


def test_seed_example_600_among_manager_and_three_members():
    lines = split("600", [(1, "manager"), (2, "member"), (3, "member"), (4, "member")])
    # 600 / 4.2 = 142.857... per weight unit
    assert [line.share for line in lines] == [D("171.43"), D("142.86"), D("142.86"), D("142.85")]
    assert sum(line.share for line in lines) == D("600.00")


@pytest.mark.parametrize("amount, n", [("100", 3), ("0.01", 4), ("1000", 7), ("999.99", 6), ("333.33", 2)])
def test_uneven_amounts_add_up_to_the_cent(amount, n):
    people = [(1, "manager")] + [(i, "member") for i in range(2, n + 1)]
    lines = split(amount, people)
    assert sum(line.share for line in lines) == D(amount).quantize(D("0.01"))
    assert max(line.share for line in lines[1:]) - min(line.share for line in lines[1:]) <= D("0.01")


def test_lateness_on_several_documents_line_by_line():
    people = [(1, "manager"), (2, "member"), (3, "member"), (4, "member")]
    late = {2: [("daily:2026-03-02", 1), ("summary:2026-03-06", 3)], 1: [("plan:2026-03-01", 2)]}
    lines = split("600", people, late)
    manager, leader = lines[0], lines[1]
    assert manager.deductions == [("plan:2026-03-01", 2, D("17.14"))]  # 171.43 x 10 %
    assert leader.deductions == [("daily:2026-03-02", 1, D("7.14")), ("summary:2026-03-06", 3, D("21.43"))]
    assert leader.net == D("142.86") - D("28.57")
    assert lines[2].net == D("142.86") and lines[2].deductions == []


def test_deductions_never_exceed_the_share():
    lines = split("100", [(1, "member")], {1: [("daily:x", 15), ("daily:y", 15)]})
    assert lines[0].deducted == D("100.00") and lines[0].net == D("0.00")


def test_team_project_threshold():
    assert rules.is_team_job(5, 2)          # 10 person-days
    assert rules.is_team_job(4, 2)          # 4 technicians over 2 working days
    assert not rules.is_team_job(3, 3)      # 9 person-days, 3 technicians
    assert not rules.is_team_job(9, 1)      # one day
    assert rules.is_team_job(2, 5)          # 10 person-days


def test_survey_incentives():
    assert rules.survey_incentives(True, leader_reward=D("100"), member_reward=D("50"), leader_fine=D("100")) == (
        D("100.00"), D("50.00"))
    assert rules.survey_incentives(False, leader_reward=D("100"), member_reward=D("50"), leader_fine=D("100")) == (
        D("-100.00"), None)
