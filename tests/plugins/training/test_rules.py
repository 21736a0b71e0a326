"""TRN-3/TRN-4 rules as plain functions."""

from datetime import UTC, datetime
from decimal import Decimal

from fuwu_plugins.training import rules


def test_seat_status_waits_beyond_capacity():
    assert rules.seat_status(1, 2) == "registered"
    assert rules.seat_status(2, 2) == "waiting"


def test_multiple_choice_partial_answers_as_documented():
    # right = options 0 and 3, 4 points
    assert rules.score_choice("multiple", "0,3", ["0", "3"], 4) == Decimal("4")
    assert rules.score_choice("multiple", "0,3", ["0"], 4) == Decimal("2.00")  # a subset earns its share
    assert rules.score_choice("multiple", "0,3", ["0", "1"], 4) == Decimal("0")  # any wrong choice: nothing
    assert rules.score_choice("multiple", "0,3", ["0", "1", "3"], 4) == Decimal("0")
    assert rules.score_choice("multiple", "0,1,2", ["0"], 2) == Decimal("0.67")
    assert rules.score_choice("multiple", "0,3", [], 4) == Decimal("0")


def test_single_and_true_false():
    assert rules.score_choice("single", "1", "1", 3) == 3
    assert rules.score_choice("single", "1", "0", 3) == 0
    assert rules.score_choice("truefalse", "false", "false", 2) == 2
    assert rules.score_choice("truefalse", "false", None, 2) == 0


def test_draw_is_stable_per_trainee_and_whole_bank_when_zero():
    bank = list(range(1, 51))
    assert rules.draw(bank, 0, seed=5) == bank
    picked = rules.draw(bank, 10, seed=5)
    assert len(picked) == 10 and picked == rules.draw(bank, 10, seed=5) and set(picked) <= set(bank)


def test_deadline_includes_grace():
    start = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    assert rules.deadline(start, 30, 60) == datetime(2026, 1, 1, 1, 31, tzinfo=UTC)
    assert rules.percent(Decimal("7.5"), 10) == Decimal("75.00")
