"""Sign-in history: every attempt to sign in, who and from where, and the
accounts and addresses paused right now for too many failures.

The sign-in form records each attempt (``sessions.LoginAttempt``) to pause
guessing; this page lets the holders of ``core.audit.view`` read them: the
person who cannot sign in is found here, and so is the address guessing
passwords. The job ``core.prune_sign_ins`` (``sessions.prune_sign_ins``) drops
attempts older than the days kept.
"""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...errors import FuwuError
from ...models import Staff
from ..endpoint import requires
from ..export import MAX_ROWS, export_response
from ..forms import within_days
from ..pagination import keyset_page
from .. import sessions
from ..sessions import ATTEMPT_RESULTS, LoginAttempt, attempt_result, counted_failures, pause_limits
from ..shell import flash_redirect
from ..templating import is_fragment_request

#: the attempts of each result (``sessions.ATTEMPT_RESULTS``)
RESULT_CONDITIONS = {
    "succeeded": LoginAttempt.success.is_(True),
    "failed": and_(LoginAttempt.success.is_(False), LoginAttempt.refused.is_(False),
                   LoginAttempt.wrong_code.is_(False)),
    "wrong_code": LoginAttempt.wrong_code.is_(True),
    "refused": LoginAttempt.refused.is_(True),
}

LIFTER = aliased(Staff)
#: a row of the history: plain values, the account's owner by the username typed
COLUMNS = (LoginAttempt.id, LoginAttempt.at, LoginAttempt.username, LoginAttempt.ip, LoginAttempt.success,
           LoginAttempt.refused, LoginAttempt.wrong_code, Staff.id.label("staff_id"), Staff.name.label("staff_name"),
           LIFTER.name.label("lifted_by"))


def paused_now(site, db) -> tuple[list[str], list[str]]:
    """The accounts and the addresses the sign-in form refuses at this moment
    (by ``sessions.pause_limits``, as ``auth.login`` decides)."""
    window, per_account, per_address = pause_limits(site, db)
    failed = select(func.count()).where(*counted_failures(window))

    def over(column, limit: int) -> list[str]:
        query = failed.add_columns(column).group_by(column).having(func.count() >= limit).order_by(column)
        return [value for _count, value in db.execute(query)]

    return over(LoginAttempt.username, per_account), over(LoginAttempt.ip, per_address)


@requires("core.audit.view")
def sign_in_log(request: Request) -> Response:
    db = request.state.db
    site = request.app.state.site
    params = request.query_params
    query = (select(*COLUMNS).outerjoin(Staff, Staff.username == LoginAttempt.username)
             .outerjoin(LIFTER, LIFTER.id == LoginAttempt.lifted_by_id))
    username = (params.get("username") or "").strip()[:60]
    if username:
        query = query.where(LoginAttempt.username == username)
    ip = (params.get("ip") or "").strip()[:64]
    if ip:
        query = query.where(LoginAttempt.ip == ip)
    if params.get("result") in ATTEMPT_RESULTS:
        query = query.where(RESULT_CONDITIONS[params["result"]])
    query = within_days(query, LoginAttempt.at, params)
    if params.get("format") in ("csv", "xlsx"):
        rows = db.execute(query.order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc()).limit(MAX_ROWS))
        return export_response(params["format"], _("Sign-in history"),
                               [_("Time"), _("Username"), _("Staff member"), _("IP address"), _("Result")],
                               ([r.at, r.username, r.staff_name or "", r.ip, str(ATTEMPT_RESULTS[attempt_result(r)])]
                                for r in rows))
    # no total: attempts only accumulate (until pruned), and a count of them all would cost more than the page
    page = keyset_page(db, query, sort_col=LoginAttempt.at, id_col=LoginAttempt.id, descending=True,
                       after=params.get("after"), before=params.get("before"),
                       size=site.settings.get("core.page_size", db), count=False)
    # the box above the filters: a fragment (the filters changed) leaves it as it is
    accounts, addresses = ([], []) if is_fragment_request(request) else paused_now(site, db)
    return request.app.state.templates.render(
        request, "core/audit/sign_ins.html",
        {"page": page, "results": ATTEMPT_RESULTS, "result_of": attempt_result, "paused_accounts": accounts,
         "paused_addresses": addresses, "title": _("Sign-in history")},
        fragment="results")


@requires("core.role.manage")
def lift_pause(request: Request) -> Response:
    """An admin lets a paused account or address try again now (the person
    who mistyped their password calls). Its failures stay in the history,
    marked as forgiven by whom."""
    form = request.state.form
    username, ip = (str(form.get(key, "")).strip() for key in ("username", "ip"))
    if bool(username) == bool(ip):
        raise FuwuError(_l("Choose one account or one address whose pause to lift."))
    site, db = request.app.state.site, request.state.db
    lifted = sessions.lift_pause(db, site, request.state.user.id, username=username or None, ip=ip or None)
    name = username or ip
    if not lifted:
        return flash_redirect(request, request.url_for("sign_in_log").path,
                              _("%(name)s is not paused: nothing to lift.", name=name), "warning")
    return flash_redirect(request, request.url_for("sign_in_log").path,
                          _("The pause on %(name)s is lifted: it may sign in again.", name=name))


def routes() -> list:
    return [Route("/audit/sign-ins", sign_in_log, name="sign_in_log"),
            Route("/audit/sign-ins/lift", lift_pause, methods=["POST"], name="sign_in_lift_pause")]
