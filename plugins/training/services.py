"""The training plugin's work on the database (called by routes, links, hooks)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select

from fuwu import i18n, timeline
from fuwu.db import utcnow
from fuwu.errors import FuwuError
from fuwu.i18n import LABELLED
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Customer
from fuwu.notifications import queue_mail

from . import rules
from .models import Attempt, Course, Invitation, Question, Registration, Sheet, Signature, TrainingSession

N_ = lambda s: s  # noqa: E731 - marks a msgid stored untranslated


class Refused(FuwuError):
    """A training rule says no; the sentence is shown to the user (422)."""

    status = 422


def seats(db, session_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(registered, waiting) per session, in one query."""
    result = {i: (0, 0) for i in session_ids}
    if session_ids:
        rows = db.execute(select(Registration.session_id, Registration.status, func.count())
                          .where(Registration.session_id.in_(session_ids), Registration.status != "cancelled")
                          .group_by(Registration.session_id, Registration.status))
        for sid, status, n in rows:
            seated, waiting = result[sid]
            result[sid] = (seated + n, waiting) if status == "registered" else (seated, waiting + n)
    return result


def taken(db, session_id: int) -> int:
    return db.scalar(select(func.count()).where(Registration.session_id == session_id,
                                                Registration.status == "registered")) or 0


def register(db, ts: TrainingSession, *, name: str, email: str, phone: str = "", staff_id=None,
             self_registered=False) -> Registration:
    """TRN-3: a seat when one is free, else the waiting list."""
    email = email.strip().lower()
    existing = db.scalar(select(Registration).where(Registration.session_id == ts.id, Registration.email == email))
    if existing is not None and existing.status != "cancelled":
        raise Refused(_l("%(email)s is already registered for this session."), email=email)
    status = rules.seat_status(taken(db, ts.id), ts.capacity)  # TRN-3
    if existing is not None:
        reg = existing
        reg.name, reg.phone, reg.status = name, phone, status
    else:
        reg = Registration(session_id=ts.id, session=ts, name=name, email=email, phone=phone, status=status,
                           staff_id=staff_id, self_registered=self_registered)
        db.add(reg)
    db.flush()
    notify_trainee(db, reg, N_("You are registered") if status == "registered"
                   else N_("The session is full: you are on the waiting list"))
    return reg


def cancel(db, reg: Registration) -> Registration | None:
    """TRN-3: cancelling a seat moves the first on the waiting list up; returns them."""
    was_seated = reg.status == "registered"
    reg.status = "cancelled"
    db.flush()
    if not was_seated:
        return None
    moved = fill_seats(db, reg.session)
    return moved[0] if moved else None


def fill_seats(db, ts: TrainingSession) -> list[Registration]:
    """TRN-3: free seats (a cancellation, a larger capacity) go to the waiting list in order."""
    free = ts.capacity - taken(db, ts.id)
    if free <= 0:
        return []
    moved = list(db.scalars(select(Registration).where(Registration.session_id == ts.id,
                                                       Registration.status == "waiting")
                            .order_by(Registration.created_at, Registration.id).limit(free)))
    for reg in moved:
        reg.status = "registered"
        notify_trainee(db, reg, N_("Moved up from the waiting list"))
    db.flush()
    return moved


def _mail_about(db, ts: TrainingSession, email: str, what: str, body: str, *,
                until: datetime | None = None, **params) -> None:
    """TRN-3: a mail about ``ts`` to someone without an account (a trainee, the customer's
    contact), so in the site's language with times in the site's zone. The subject is
    "[code] title: <what>"; ``body`` gets ``params`` and ``what``, ``course``, ``time``
    (the start), ``place`` and ``date`` (the day of ``until``)."""
    from fuwu.site import site_of

    site = site_of(db)
    with i18n.use_language(site.catalogs, site.config.language, site.config.timezone):
        gettext = i18n.active_translations().gettext
        subject = gettext(LABELLED) % {"label": f"[{ts.course.code}] {ts.course.title}", "value": gettext(what)}
        values = {"what": gettext(what), "course": ts.course.title, "place": ts.place,
                  "time": i18n.format_moment(ts.starts_at),
                  "date": i18n.format_day(until.astimezone(site.zone).date()) if until else "", **params}
        queue_mail(db, email, subject, gettext(body) % values)


def notify_trainee(db, reg: Registration, what: str) -> None:
    """TRN-3: the trainee hears about the schedule by e-mail (outbox)."""
    _mail_about(db, reg.session, reg.email, what,
                N_("%(name)s: %(what)s\nCourse: %(course)s\nStarts at: %(time)s\nPlace: %(place)s\n"),
                name=reg.name)


def mail_invitation(db, inv: Invitation, url: str, expires_at: datetime) -> None:
    """TRN-3: the customer's contact gets the registration link, which works until ``expires_at``."""
    _mail_about(db, inv.session, inv.email, N_("Invitation to register trainees"),
                N_("Hello,\n\nyou are invited to register the trainees of your company for %(course)s.\n"
                   "Starts at: %(time)s\nPlace: %(place)s\n\nRegister them here (the link works until %(date)s):\n"
                   "%(url)s\n"), until=expires_at, url=url)


def notify_change(db, ts: TrainingSession) -> int:
    regs = db.scalars(select(Registration).where(Registration.session_id == ts.id,
                                                 Registration.status != "cancelled")).all()
    for reg in regs:
        notify_trainee(db, reg, N_("The date or place of your training has changed"))
    return len(regs)


# --- Exams (TRN-4) --------------------------------------------------------------


def attempt_for(db, reg: Registration) -> Attempt:
    attempt = db.scalar(select(Attempt).where(Attempt.registration_id == reg.id))
    if attempt is None:
        ts = reg.session
        bank = list(db.scalars(select(Question.id).where(Question.course_id == ts.course_id)))
        attempt = Attempt(registration_id=reg.id, registration=reg,
                          question_ids=rules.draw(bank, ts.exam_questions, seed=reg.id), answers={}, marks={})
        db.add(attempt)
        db.flush()
    return attempt


def questions_of(db, attempt: Attempt) -> list[Question]:
    by_id = {q.id: q for q in db.scalars(select(Question).where(Question.id.in_(attempt.question_ids or [-1])))}
    return [by_id[i] for i in attempt.question_ids if i in by_id]


def clean_answers(questions: list[Question], form) -> dict:
    answers = {}
    for q in questions:
        key = f"q{q.id}"
        if q.kind == "multiple":
            chosen = sorted({v for v in form.getlist(key) if v.isdigit() and int(v) < len(q.options)}, key=int)
            if chosen:
                answers[str(q.id)] = chosen
        else:
            value = (form.get(key) or "").strip()[:2000]
            if value:
                answers[str(q.id)] = value
    return answers


def score(db, attempt: Attempt, questions: list[Question] | None = None, pass_mark: int | None = None) -> None:
    questions = questions if questions is not None else questions_of(db, attempt)
    total, maximum, pending = Decimal(0), 0, False
    for q in questions:
        maximum += q.points
        given = (attempt.answers or {}).get(str(q.id))
        if q.kind == "short":
            mark = (attempt.marks or {}).get(str(q.id))
            if mark is None:
                pending = pending or given is not None
            else:
                total += Decimal(str(mark))
        else:
            total += rules.score_choice(q.kind, q.answer, given, q.points)
    attempt.score, attempt.max_score = total, maximum
    attempt.percent_x100 = int(rules.percent(total, maximum) * 100)
    attempt.pending_marking = pending
    mark = pass_mark if pass_mark is not None else attempt.registration.session.pass_mark
    attempt.passed = None if pending else attempt.percent >= mark


def finish(db, attempt: Attempt, *, late: bool, now) -> None:
    attempt.submitted_at = now
    attempt.late = late
    score(db, attempt)
    record_result(db, attempt)


def record_result(db, attempt: Attempt) -> None:
    """TRN-4: scores on the customer's timeline."""
    reg = attempt.registration
    ts = reg.session
    if ts.customer_id is None or attempt.passed is None:
        return
    message = (N_("%(name)s passed the exam of %(course)s with %(percent)s%%") if attempt.passed
               else N_("%(name)s did not pass the exam of %(course)s (%(percent)s%%)"))
    timeline.append(db, ts.customer_id, message, source="training", kind="training", ref=attempt,
                    name=reg.name, course=ts.course.title, percent=attempt.percent)


# --- Acceptance sheet (TRN-5) ----------------------------------------------------


def sheet_of(db, ts: TrainingSession) -> Sheet:
    sheet = db.scalar(select(Sheet).where(Sheet.session_id == ts.id))
    if sheet is None:
        sheet = Sheet(session_id=ts.id)
        db.add(sheet)
        db.flush()
    return sheet


def sign(db, sheet: Sheet, reg: Registration, *, name: str, signature: str) -> Signature:
    if sheet.completed_at is not None:
        raise Refused(_l("The acceptance sheet is complete and can no longer change."))
    if not name.strip() or not signature.strip():
        raise Refused(_l("Type your name and sign."))
    if db.scalar(select(Signature.id).where(Signature.sheet_id == sheet.id, Signature.registration_id == reg.id)):
        raise Refused(_l("%(name)s has already signed."), name=reg.name)
    row = Signature(sheet_id=sheet.id, registration_id=reg.id, name=name.strip()[:100],
                    signature=signature.strip()[:200000], signed_at=utcnow())
    db.add(row)
    db.flush()
    return row


def complete(db, sheet: Sheet, *, name: str, signature: str, seated: list[Registration]) -> None:
    """TRN-5: the responsible person signs last, after every trainee present."""
    if sheet.completed_at is not None:
        raise Refused(_l("The acceptance sheet is complete and can no longer change."))
    signed = set(db.scalars(select(Signature.registration_id).where(Signature.sheet_id == sheet.id)))
    missing = [r.name for r in seated if r.id not in signed]
    if missing:
        raise Refused(_l("Still to sign: %(names)s."), names=i18n.listed(missing))
    if not name.strip() or not signature.strip():
        raise Refused(_l("Type your name and sign."))
    sheet.responsible_name, sheet.responsible_signature = name.strip()[:100], signature.strip()[:200000]
    sheet.completed_at = utcnow()


# --- Reports (aggregated in SQL) -----------------------------------------------------


def report(db, *, by: str, customer_scope=None):
    """Per course or per customer: sessions, seats, attended, exams, passed, average score."""
    group = Course.title if by == "course" else func.coalesce(Customer.name, "")
    seated = func.sum(case((Registration.status == "registered", 1), else_=0))
    attended = func.sum(case((Registration.attended.is_(True), 1), else_=0))
    passed = func.sum(case((Attempt.passed.is_(True), 1), else_=0))
    scored = func.sum(case((Attempt.passed.is_not(None), 1), else_=0))
    query = (select(group.label("key"), func.count(func.distinct(TrainingSession.id)).label("sessions"),
                    seated.label("seated"), attended.label("attended"), scored.label("examined"),
                    passed.label("passed"), func.avg(Attempt.percent_x100).label("average"))
             .select_from(TrainingSession).join(Course, Course.id == TrainingSession.course_id)
             .outerjoin(Registration, Registration.session_id == TrainingSession.id)
             .outerjoin(Attempt, Attempt.registration_id == Registration.id)
             .outerjoin(Customer, Customer.id == TrainingSession.customer_id)
             .group_by(group).order_by(group))
    if customer_scope is not None:
        query = query.where(customer_scope)
    return db.execute(query).all()


# --- TRN-6: train before first use ------------------------------------------------------


def first_use_plan(db, contract) -> None:
    """A newly installed contract gets a draft plan on the responsible trainer's list."""
    from fuwu.models import Role, Staff
    from fuwu.site import site_of

    from .models import Plan

    if contract.installed_on is None:
        return
    site = site_of(db)
    if not site.settings.get("training.first_use_plan", db):  # TRN-6
        return
    if db.scalar(select(Plan.id).where(Plan.contract_id == contract.id, Plan.first_use.is_(True))):
        return
    trainer = db.scalar(select(Staff).join(Staff.roles).where(Role.key == "trainer", Staff.active.is_(True))
                        .order_by(Staff.id).limit(1))
    plan = Plan(customer_id=contract.customer_id, contract_id=contract.id, first_use=True,
                title=site.catalogs.get(site.config.language).gettext(
                    N_("%(number)s: training before first use")) % {"number": contract.number},
                goals="", content="", place="on_site", starts_on=contract.installed_on,
                trainer_id=trainer.id if trainer else None)
    site.workflows.start(db, plan, None)
    if trainer is not None:
        from fuwu.notifications import notify

        notify(db, trainer, N_("Plan the training before first use for %(customer)s"), source="training",
               url=f"/training/plans/{plan.id}", customer=contract.customer.name if contract.customer else "")
