"""The field_service work: dispatch and job steps, return visits, the month
close (RES-7), projects, their documents, survey and bonus (RES-8). Every
function runs inside the caller's unit of work."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select

from fuwu import timeline
from fuwu.errors import ValidationError
from fuwu.i18n import N_, Month, site_text
from fuwu.models import Staff
from fuwu.site import site_of

from . import rules
from .models import AwardResult, MobileJob, Project, ProjectDocument

PREFIX = "/field_service"


def setting(session, key: str):
    return site_of(session).settings.get(key, session)


# --- RES-7 mobile service ---------------------------------------------------------------


def score_table(session) -> dict[str, int]:
    return rules.parse_score_table(setting(session, "field_service.score_table"))


def dispatch(session, *, customer_id: int, technician: Staff, coordinator: Staff, problem: str, kind: str,
             now: datetime) -> MobileJob:
    job = MobileJob(customer_id=customer_id, technician_id=technician.id, coordinator_id=coordinator.id,
                    problem=problem, kind=kind, state="assigned", assigned_at=now)
    session.add(job)
    session.flush()
    from fuwu.notifications import notify

    notify(session, technician, N_("Mobile job %(n)s assigned to you: %(problem)s"),
           url=f"{PREFIX}/jobs/{job.id}", source="field_service", n=job.id, problem=problem)
    timeline.append(session, customer_id, N_("Mobile technician %(name)s dispatched: %(problem)s"),
                    source="field_service", name=technician.name, problem=problem)
    return job


def depart(session, job: MobileJob, now: datetime) -> None:
    if job.state != "assigned":
        raise ValidationError({"state": N_("This step is already recorded.")})
    job.departed_at = now
    # RES-7: left within 10 minutes of the assignment (setting)
    job.left_in_time = rules.left_in_time(job.assigned_at, now, setting(session, "field_service.depart_minutes"))
    job.state = "departed"


def arrive(session, job: MobileJob, now: datetime) -> None:
    if job.state != "departed":
        raise ValidationError({"state": N_("This step is already recorded.")})
    job.arrived_at = now
    job.state = "arrived"


def finish(session, job: MobileJob, now: datetime, work_done: str) -> None:
    if job.state != "arrived":
        raise ValidationError({"state": N_("This step is already recorded.")})
    site = site_of(session)
    job.finished_at = now
    job.finished_on = site.day_of(now)
    job.work_done = work_done
    job.score = score_table(session).get(job.kind, 0)  # RES-7: scoring table setting
    job.state = "finished"
    timeline.append(session, job.customer_id, N_("Mobile service finished by %(name)s: %(work)s"),
                    source="field_service", name=job.technician.name, work=work_done)


def record_visit(session, job: MobileJob, actor: Staff, now: datetime, *, answer: str | None, comment: str,
                 failed: bool) -> None:
    """RES-7 return visit: an answer, or a failed attempt (counted, with a note)."""
    if job.state != "finished":
        raise ValidationError({"answer": N_("Only finished jobs get a return visit.")})
    if failed:
        job.visit_attempts += 1
        job.visit_failed_note = comment
    else:
        if answer not in rules.ANSWERS:
            raise ValidationError({"answer": N_("Choose the customer's answer.")})
        job.answer = answer
        job.answer_comment = comment
    job.visited_at = now
    job.visited_by_id = actor.id


def month_bounds(month: date) -> tuple[date, date]:
    start = month.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def month_rows(session, month: date) -> list[rules.TechMonth]:
    """Per technician with jobs finished in the month: jobs, score, answers, complaints (RES-7)."""
    start, end = month_bounds(month)
    very = func.sum(case((MobileJob.answer == "very_satisfied", 1), else_=0))
    rows = session.execute(
        select(MobileJob.technician_id, Staff.name, func.count(MobileJob.id), func.coalesce(func.sum(MobileJob.score), 0),
               very, func.count(MobileJob.answer))
        .join(Staff, Staff.id == MobileJob.technician_id)
        .where(MobileJob.state == "finished", MobileJob.finished_on >= start, MobileJob.finished_on < end)
        .group_by(MobileJob.technician_id, Staff.name)).all()
    counts = complaints(session, [r[0] for r in rows], start, end)
    return [rules.TechMonth(staff_id=r[0], name=r[1], jobs=int(r[2]), score=int(r[3]), very_satisfied=int(r[4] or 0),
                            answered=int(r[5]), complaints=counts.get(r[0], 0)) for r in rows]


def complaints(session, staff_ids: list[int], start: date, end: date) -> dict[int, int]:
    """Complaints per technician from whoever answers the hook (RES-7)."""
    if not staff_ids:
        return {}
    total: dict[int, int] = {}
    for answer in site_of(session).events.emit(session, "field_service_complaints", staff_ids=staff_ids,
                                                month_start=start, month_end=end):
        for staff_id, count in (answer or {}).items():
            total[staff_id] = total.get(staff_id, 0) + int(count)
    return total


def award_config(session) -> rules.AwardConfig:
    return rules.AwardConfig(
        prizes=(setting(session, "field_service.first_prize"), setting(session, "field_service.second_prize")),
        reward_rate=setting(session, "field_service.reward_rate"),
        fine_rate=setting(session, "field_service.fine_rate"),
        fine=setting(session, "field_service.month_fine"),
        max_complaints=setting(session, "field_service.max_complaints"),
    )


REASONS = {
    "rank": N_("Mobile service %(month)s: place %(place)s by workload score %(score)s, very satisfied %(rate)s%%"),
    "rate": N_("Mobile service %(month)s: very satisfied only %(rate)s%%"),
    "complaints": N_("Mobile service %(month)s: %(complaints)s complaints"),
}


def reason_text(session, row: rules.TechMonth, result: rules.AwardResult, month: date) -> str:
    params = {"month": Month(month), "place": result.place, "score": row.score,
              "rate": row.rate if row.rate is not None else "-", "complaints": row.complaints}
    site = site_of(session)
    return "; ".join(site_text(site, REASONS[r], **params) for r in result.reasons)


def close_month(session, month: date) -> list[AwardResult]:
    """RES-7: compute the month's results and emit each once as ``incentive_due``."""
    start, _end = month_bounds(month)
    rows = month_rows(session, start)
    by_id = {r.staff_id: r for r in rows}
    _ranking, results = rules.monthly_awards(rows, award_config(session))
    done = {(a.staff_id, a.kind) for a in session.scalars(select(AwardResult).where(AwardResult.month == start))}
    made = []
    site = site_of(session)
    for result in results:
        if (result.staff_id, result.kind) in done:
            continue
        row = by_id.get(result.staff_id)
        reason = reason_text(session, row, result, start)
        award = AwardResult(month=start, staff_id=result.staff_id, kind=result.kind, amount=result.amount,
                            place=result.place, reason=reason)
        session.add(award)
        session.flush()
        site.events.emit(session, "incentive_due", staff=session.get(Staff, result.staff_id), amount=result.amount,
                         reason=reason, rule_id="RES-7", source=("field_service.award", award.id))
        made.append(award)
    return made


def close_previous_month(site, session, now: datetime) -> None:
    """Job: once the month is over (and its return visits had a working day), close it."""
    today = site.day_of(now)
    previous = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    if today.day >= setting(session, "field_service.close_day"):
        close_month(session, previous)


# --- RES-8 team service -------------------------------------------------------------------


def working_days(session, start: date, finish: date) -> int:
    cal = site_of(session).calendar(session)
    return sum(1 for i in range((finish - start).days + 1) if cal.is_workday(start + timedelta(days=i)))


def qualifies(session, technicians: int, start: date, finish: date) -> bool:
    return rules.is_team_job(technicians, working_days(session, start, finish),
                             min_person_days=setting(session, "field_service.team_person_days"),
                             min_technicians=setting(session, "field_service.team_technicians"),
                             min_days=setting(session, "field_service.team_days"))


def days_late(session, doc: ProjectDocument, today: date) -> int:
    """Working days after the due day until submitted (or today, if still missing)."""
    until = doc.submitted_on or today
    if until <= doc.due_on:
        return 0
    cal = site_of(session).calendar(session)
    return sum(1 for i in range(1, (until - doc.due_on).days + 1) if cal.is_workday(doc.due_on + timedelta(days=i)))


def people(project: Project) -> list[tuple[int, str]]:
    """Bonus shares: the project manager, then each member (the leader is a member)."""
    seen = {project.manager_id}
    result = [(project.manager_id, "manager")]
    for m in project.members:
        if m.staff_id not in seen:
            seen.add(m.staff_id)
            result.append((m.staff_id, "member"))
    return result


DOC_LABELS = {"plan": N_("Plan"), "daily": N_("Daily report"), "work_record": N_("Work record"),
              "summary": N_("Summary report")}


def bonus_lines(session, project: Project, today: date) -> list[rules.BonusLine]:
    late: dict[int, list[tuple[str, int]]] = {}
    for doc in project.documents:
        days = days_late(session, doc, today)
        if days:
            label = f"{doc.kind}:{doc.due_on.isoformat()}"
            late.setdefault(doc.responsible_id, []).append((label, days))
    return rules.bonus_split(project.bonus, people(project), late,
                             manager_weight=setting(session, "field_service.manager_weight"),
                             member_weight=setting(session, "field_service.member_weight"),
                             late_percent=setting(session, "field_service.late_percent"))


def schedule_documents(session, project: Project) -> None:
    """The plan (due on the start day), a daily report per working day and the summary
    (due the working day after the expected finish), all by the group leader (RES-8)."""
    cal = site_of(session).calendar(session)
    project.documents.append(ProjectDocument(kind="plan", responsible_id=project.manager_id,
                                             due_on=project.expected_start))
    day = project.expected_start
    while day <= project.expected_finish:
        if cal.is_workday(day):
            project.documents.append(ProjectDocument(kind="daily", responsible_id=project.leader_id, due_on=day))
        day += timedelta(days=1)
    project.documents.append(ProjectDocument(kind="summary", responsible_id=project.leader_id,
                                             due_on=cal.add_working_days(project.expected_finish, 1)))


def close_project(session, project: Project, today: date) -> list[rules.BonusLine]:
    """RES-8: the survey's reward/fine and the bonus lines, each emitted once (the
    project becomes read-only by its state, so a second close is refused)."""
    if project.state == "closed":
        raise ValidationError({"state": N_("The project is already closed.")})
    if project.survey is None:
        raise ValidationError({"survey": N_("The customer's survey is still missing.")})
    site = site_of(session)
    leader_amount, member_amount = rules.survey_incentives(
        project.survey == "satisfied",
        leader_reward=setting(session, "field_service.leader_reward"),
        member_reward=setting(session, "field_service.member_reward"),
        leader_fine=setting(session, "field_service.leader_fine"))
    staff = {s.id: s for s in session.scalars(select(Staff).where(
        Staff.id.in_({project.leader_id, project.manager_id, *[m.staff_id for m in project.members]})))}
    survey_reason = site_text(site, N_("Team project %(title)s: customer satisfied") if project.survey == "satisfied"
                              else N_("Team project %(title)s: customer dissatisfied"), title=project.title)
    site.events.emit(session, "incentive_due", staff=staff[project.leader_id], amount=leader_amount,
                     reason=survey_reason, rule_id="RES-8", source=("field_service.project.leader", project.id))
    if member_amount is not None:
        for m in project.members:
            if m.staff_id == project.leader_id:
                continue
            site.events.emit(session, "incentive_due", staff=staff[m.staff_id], amount=member_amount,
                             reason=survey_reason, rule_id="RES-8",
                             source=("field_service.project.member", m.id))
    lines = bonus_lines(session, project, today)
    for line in lines:
        if line.net <= 0:
            continue
        reason = site_text(site, N_("Team project %(title)s: bonus share %(share)s less %(deducted)s for late "
                                    "documents"), title=project.title, share=line.share, deducted=line.deducted)
        site.events.emit(session, "incentive_due", staff=staff[line.staff_id], amount=line.net, reason=reason,
                         rule_id="RES-8", source=(f"field_service.project.bonus.{line.staff_id}", project.id))
    project.state = "closed"
    project.actual_finish = project.actual_finish or today
    return lines
