"""Training rules as plain functions (no I/O)."""

from __future__ import annotations

import random
import re
import unicodedata
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from fuwu.i18n import lazy_gettext as _l

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


def material_types(text: str) -> set[str]:
    """TRN-1: the accepted course material file types from the setting, ``pdf,docx``
    (a full-width comma or ``、`` too); ValueError with the message when it names none
    or something that is no file type, as the setting's ``check``."""
    types = {t.strip().lower().lstrip(".") for t in re.split(r"[,、]", unicodedata.normalize("NFKC", text or ""))}
    types.discard("")
    if not types or not all(re.fullmatch(r"[a-z0-9]{1,10}", t) for t in types):
        raise ValueError(_l("Write file types separated by commas, such as pdf,docx,pptx."))
    return types
