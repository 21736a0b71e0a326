"""The regulation logic of RES-7 (mobile service) and RES-8 (team service,
project bonus) as plain functions of values: no database, no clock."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from fuwu.i18n import lazy_gettext as _l
from fuwu.money import quantize, split

ANSWERS = ("very_satisfied", "satisfied", "dissatisfied")


# --- RES-7 mobile service --------------------------------------------------------


def left_in_time(assigned_at: datetime, departed_at: datetime, minutes: int) -> bool:
    """RES-7: the technician leaves within ``minutes`` of the assignment."""
    return departed_at - assigned_at <= timedelta(minutes=minutes)


def parse_score_table(text: str) -> dict[str, int]:
    """The workload scoring table setting: ``kind=points`` pairs, comma separated
    (the full-width ``＝`` and ``，`` a Chinese keyboard types too); ValueError with
    the message when a pair is not one, as the setting's ``check``."""
    table: dict[str, int] = {}
    for part in unicodedata.normalize("NFKC", text or "").split(","):
        if not part.strip():
            continue
        key, _sep, value = part.partition("=")
        try:
            points = int(value)
        except ValueError:
            points = None
        if not key.strip() or points is None or points < 0:
            raise ValueError(_l("Write kind=points pairs separated by commas, such as install=3,repair=2: "
                                "%(part)s is not one.", part=part.strip()))
        table[key.strip()] = points
    if not table:
        raise ValueError(_l("Give at least one kind of mobile job, such as install=3."))
    return table


def rate(very_satisfied: int, answered: int) -> Decimal | None:
    """The "very satisfied" rate in percent (2 places); None when nobody answered."""
    if answered <= 0:
        return None
    return (Decimal(very_satisfied) * 100 / Decimal(answered)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass
class TechMonth:
    staff_id: int
    name: str
    jobs: int
    score: int
    very_satisfied: int
    answered: int
    complaints: int

    @property
    def rate(self) -> Decimal | None:
        return rate(self.very_satisfied, self.answered)


@dataclass
class AwardResult:
    staff_id: int
    kind: str  # "reward" or "fine"
    amount: Decimal
    place: int | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass
class AwardConfig:
    prizes: tuple[Decimal, ...] = (Decimal("100.00"), Decimal("70.00"))
    reward_rate: Decimal = Decimal("95")
    fine_rate: Decimal = Decimal("80")
    fine: Decimal = Decimal("100.00")
    max_complaints: int = 1


def monthly_awards(rows: list[TechMonth], config: AwardConfig) -> tuple[list[tuple[TechMonth, int | None]], list[AwardResult]]:
    """RES-7 monthly awards. Returns the ranking (row, place or None) and the results.

    Choices (README): technicians with no finished job are not ranked and not
    fined for the rate (nothing to judge) but still fined for complaints; a rate
    needs at least one answered return visit; a technician fined this month is
    not eligible for a prize; ties on score are broken by the higher rate,
    then more jobs; rows still equal share the place (competition ranking
    1, 1, 3) and each gets that place's prize; fewer eligible technicians than
    prizes: the remaining prizes are not awarded.
    """
    results: list[AwardResult] = []
    fined: set[int] = set()
    for row in rows:
        reasons = []
        # exact comparisons (very x 100 vs rate x answered): 94.997 % is below 95 % even if shown as 95.00
        if row.jobs and row.answered and row.very_satisfied * 100 < config.fine_rate * row.answered:  # RES-7: < 80 %
            reasons.append("rate")
        if row.complaints > config.max_complaints:  # RES-7: more than one complaint
            reasons.append("complaints")
        if reasons:
            fined.add(row.staff_id)
            results.append(AwardResult(row.staff_id, "fine", -quantize(config.fine), reasons=reasons))
    eligible = [row for row in rows if row.jobs and row.score > 0 and row.answered
                and row.very_satisfied * 100 >= config.reward_rate * row.answered  # RES-7: at least 95 %
                and row.staff_id not in fined]
    eligible.sort(key=lambda row: (_order(row), row.name))
    places: dict[int, int] = {}
    previous = None
    for i, row in enumerate(eligible, start=1):
        places[row.staff_id] = places[previous.staff_id] if previous is not None and _order(row) == _order(
            previous) else i
        previous = row
    for row in eligible:
        place = places[row.staff_id]
        if place <= len(config.prizes):
            results.append(AwardResult(row.staff_id, "reward", quantize(config.prizes[place - 1]), place=place,
                                       reasons=["rank"]))
    ranked = sorted(rows, key=lambda row: (_order(row), row.name))
    return [(row, places.get(row.staff_id)) for row in ranked], results


def _order(row: TechMonth) -> tuple:
    """Ranking key: score, then the exact rate (a fraction), then jobs, all descending."""
    exact = Fraction(row.very_satisfied, row.answered) if row.answered else Fraction(-1)
    return (-row.score, -exact, -row.jobs)


# --- RES-8 team service ---------------------------------------------------------------


def is_team_job(technicians: int, working_days: int, *, min_person_days: int = 10, min_technicians: int = 4,
                min_days: int = 2) -> bool:
    """RES-8: 10 person-days or more; 4+ technicians over 2+ working days qualifies too."""
    return technicians * working_days >= min_person_days or (
        technicians >= min_technicians and working_days >= min_days)


def survey_incentives(satisfied: bool, *, leader_reward: Decimal, member_reward: Decimal,
                      leader_fine: Decimal) -> tuple[Decimal, Decimal | None]:
    """RES-8: (leader's amount, each member's amount or None)."""
    if satisfied:
        return quantize(leader_reward), quantize(member_reward)
    return -quantize(leader_fine), None


@dataclass
class BonusLine:
    staff_id: int
    role: str
    weight: Decimal
    share: Decimal
    deductions: list[tuple[str, int, Decimal]]  # (document label, days late, amount deducted)

    @property
    def deducted(self) -> Decimal:
        return sum((d[2] for d in self.deductions), Decimal("0.00"))

    @property
    def net(self) -> Decimal:
        return self.share - self.deducted


def bonus_split(amount: Decimal, people: list[tuple[int, str]], late: dict[int, list[tuple[str, int]]], *,
                manager_weight: Decimal, member_weight: Decimal, late_percent: Decimal) -> list[BonusLine]:
    """RES-8 project bonus: split by weight exactly to the fen (core money split);
    each day a document is late deducts ``late_percent`` % of the responsible
    person's share, computed on the share and rounded to the fen per document,
    never below zero. Deducted money is not redistributed (README)."""
    weights = [manager_weight if role == "manager" else member_weight for _sid, role in people]
    shares = split(amount, weights)
    lines = []
    for (staff_id, role), weight, share in zip(people, weights, shares, strict=True):
        deductions = []
        left = share
        for label, days in late.get(staff_id, []):
            if days <= 0:
                continue
            cut = min(left, quantize(share * late_percent * days / 100))
            left -= cut
            deductions.append((label, days, cut))
        lines.append(BonusLine(staff_id, role, Decimal(weight), share, deductions))
    return lines
