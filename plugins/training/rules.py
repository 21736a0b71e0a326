"""Training rules as plain functions (no I/O)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

KINDS = ("single", "multiple", "truefalse", "short")


def seat_status(taken: int, capacity: int) -> str:
    """TRN-3: a registration beyond capacity waits."""
    return "registered" if taken < capacity else "waiting"


def draw(question_ids: list[int], count: int, seed: int) -> list[int]:
    """TRN-4: the exam's questions; 0 or more than the bank = the whole bank, in order."""
    ids = sorted(question_ids)
    if count <= 0 or count >= len(ids):
        return ids
    return sorted(random.Random(seed).sample(ids, count))


def deadline(started_at: datetime, minutes: int, grace_seconds: int) -> datetime:
    return started_at + timedelta(minutes=minutes, seconds=grace_seconds)


def score_choice(kind: str, key: str, given, points: int) -> Decimal:
    """TRN-4: automatic scoring of choice questions.

    Multiple choice with partial answers (documented in README): any wrong
    choice scores 0; otherwise each right choice earns points / (number of
    right choices), rounded to 0.01 — so a subset of the right answers earns
    a share and the full set earns all the points.
    """
    if kind == "single" or kind == "truefalse":
        return Decimal(points) if str(given or "") == key and key != "" else Decimal(0)
    if kind == "multiple":
        right = {k for k in key.split(",") if k != ""}
        chosen = {str(g) for g in (given or [])}
        if not right or not chosen or chosen - right:
            return Decimal(0)
        return (Decimal(points) * len(chosen) / len(right)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return Decimal(0)


def percent(score: Decimal, max_score: int) -> Decimal:
    if max_score <= 0:
        return Decimal(0)
    return (score * 100 / max_score).quantize(Decimal("0.01"), ROUND_HALF_UP)
