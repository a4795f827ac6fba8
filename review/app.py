"""The review web app: reviewers sign in, read a refinement in its context, and judge it.

Server-rendered HTML (Jinja2 templates, one stylesheet, no JavaScript). Sessions are signed
cookies (SameSite=Strict, HttpOnly) keyed by a secret the database keeps; every form carries the
session's CSRF token, checked on each POST. Only signed-in reviewers read or write. Saving a
review adds a judgment (`review.db`), so earlier ones stay on record; corrected code is then run
against the item's tests in the background (`review.corrections`).

Every error is a page, never bare JSON. A review that cannot be saved (a stale form token, an
expired session, a value out of range, a field over `review.max_field_chars`) comes back as the
form with the reviewer's draft in it and the reason; failed sign-ins are throttled per account
and per client address (`review.throttle`) and logged.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from ledex.pipeline.config import Params
from review.accounts import authenticate
from review.code_diff import code_diff
from review.corrections import check_corrections
from review.db import GRADES, HALLUCINATIONS, VOTES, Item, Judgment, Reviewer, Setting
from review.listing import ItemFilter, item_rows, languages, next_unreviewed, page_of, reviewed_by
from review.throttle import Throttle
from sandbox import SandboxConfig

log = logging.getLogger("ledex.review")

HERE = Path(__file__).parent
SECRET_KEY = "session_secret"
SESSION_HOURS = 12
FIELDS = (*GRADES, "vote", "hallucination", "severity", "corrected_explanation", "corrected_code")
TEXT_FIELDS = ("corrected_explanation", "corrected_code")
DRAFT = "draft_"  # prefix of the login form's hidden fields that carry an unsaved review


class SignInRequired(Exception):
    """The request needs a signed-in reviewer."""


class JudgmentForm(BaseModel):
    correctness: int = Field(ge=1, le=5)
    clarity: int = Field(ge=1, le=5)
    usefulness: int = Field(ge=1, le=5)
    vote: int = Field(ge=-1, le=1)
    hallucination: str = ""
    severity: str
    corrected_explanation: str = ""
    corrected_code: str = ""

    @field_validator("corrected_explanation", "corrected_code")
    @classmethod
    def _unix_newlines(cls, text: str) -> str:
        return text.replace("\r\n", "\n")  # browsers submit textarea lines with CRLF


def validate_judgment(
    draft: Mapping[str, str], tiers: list[str], max_chars: int
) -> tuple[JudgmentForm | None, dict[str, str]]:
    """The judgment in a posted draft, or None and a message per field that is wrong."""
    errors = {
        field: f"{len(draft[field]):,} characters is too long: at most {max_chars:,}."
        for field in TEXT_FIELDS
        if len(draft.get(field, "")) > max_chars
    }
    try:
        judgment = JudgmentForm.model_validate(
            {key: value for key, value in draft.items() if value or key in TEXT_FIELDS}
        )
    except ValidationError as err:
        errors.update({str(e["loc"][0]): e["msg"] for e in err.errors() if e["loc"]})
        return None, errors
    if judgment.hallucination not in ("", *HALLUCINATIONS):
        errors["hallucination"] = f"unknown hallucination kind {judgment.hallucination!r}"
    if judgment.severity not in tiers:
        errors["severity"] = f"unknown severity {judgment.severity!r}"
    return (None if errors else judgment), errors


def form_values(item: Item, judgment: Judgment | None) -> dict[str, str]:
    """The review form's fields: the reviewer's newest judgment, else the defaults; the corrected
    code starts as the model's, so a reviewer edits it rather than retyping it."""
    if judgment is None:
        values = {"vote": "0", "hallucination": "", "severity": item.severity, "corrected_explanation": ""}
    else:
        values = {field: str(getattr(judgment, field)) for field in FIELDS}
    values["corrected_code"] = (judgment.corrected_code if judgment else "") or item.code or ""
    return values


def database(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


Db = Annotated[Session, Depends(database)]


def current_reviewer(request: Request, session: Session) -> Reviewer | None:
    reviewer_id = request.session.get("reviewer")
    reviewer = session.get(Reviewer, reviewer_id) if reviewer_id is not None else None
    return reviewer if reviewer is not None and reviewer.password_hash is not None else None


def signed_in(request: Request, session: Db) -> Reviewer:
    reviewer = current_reviewer(request, session)
    if reviewer is None:
        raise SignInRequired
    return reviewer


Signed = Annotated[Reviewer, Depends(signed_in)]


def create_app(engine: Engine, params: Params) -> FastAPI:
    """The app on `engine` (already migrated), set up by `params` (`review`, the severity tiers of
    `reward_fit.severity_weights`, and the sandbox and `verify.timeout_s` that check corrections)."""
    tiers = list(params.reward_fit.severity_weights)
    settings = params.review
    throttle = Throttle(settings.login_failures, settings.login_window_s)
    app = FastAPI(title="ledex review", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(engine),
        session_cookie="ledex_review",
        max_age=SESSION_HOURS * 3600,
        same_site="strict",
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["url"] = item_url
    app.state.engine = engine

    def render(request: Request, name: str, status_code: int = 200, headers=None, **context) -> HTMLResponse:
        context.update(
            csrf=csrf_token(request),
            grades=GRADES,
            votes=VOTES,
            hallucinations=HALLUCINATIONS,
            max_chars=settings.max_field_chars,
        )
        return templates.TemplateResponse(request, name, context, status_code=status_code, headers=headers)

    def render_item(request, session, item, reviewer, status_code=200, draft=None, **context) -> HTMLResponse:
        mine = latest_judgment(session, item.id, reviewer.id)
        return render(
            request,
            "item.html",
            status_code,
            reviewer=reviewer,
            item=item,
            tiers=tiers,
            mine=mine,
            values=draft or form_values(item, mine),
            diff=code_diff(item.wrong_code, item.code or ""),
            others=other_reviewers(session, item.id, reviewer.id),
            next_item=next_unreviewed(session, reviewer.id),
            **context,
        )

    def render_login(request, status_code=200, headers=None, draft=None, draft_item="", **context) -> HTMLResponse:
        return render(request, "login.html", status_code, headers, draft=draft or {}, draft_item=draft_item, **context)

    @app.exception_handler(SignInRequired)
    async def to_sign_in(request: Request, exc: SignInRequired) -> Response:
        path = request.scope.get("raw_path", request.url.path.encode()).decode()  # as sent: item ids hold %2F
        return RedirectResponse("/login" + (f"?next={quote(path, safe='')}" if path != "/" else ""), status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def error_page(request: Request, exc: StarletteHTTPException) -> Response:
        return render(request, "error.html", exc.status_code, exc.headers, message=exc.detail)

    @app.exception_handler(RequestValidationError)
    async def bad_request_page(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return render(request, "error.html", 400, message=f"The request is not valid: {problems}")

    @app.get("/login")
    def login_form(request: Request, next_path: Annotated[str, Query(alias="next")] = "/") -> HTMLResponse:
        return render_login(request, next=local_path(next_path))

    @app.post("/login")
    async def login(request: Request, session: Db) -> Response:
        form = await request.form()
        name, client = str(form.get("name", "")).strip(), request.client.host if request.client else "unknown"
        keys = (f"account:{name.lower()}", f"client:{client}")
        kept = {
            "draft": {field: str(form.get(DRAFT + field, "")) for field in FIELDS},
            "draft_item": str(form.get(DRAFT + "item", "")),
            "next": local_path(str(form.get("next", "/"))),
        }
        if not csrf_matches(request, form):
            return render_login(request, 403, error="This sign-in form has expired. Please sign in again.", **kept)
        wait = throttle.retry_after(*keys)
        if wait is not None:
            log.warning("review: sign-in as %r from %s refused: too many failures (%.0f s left)", name, client, wait)
            minutes = -(-int(wait) // 60)
            error = f"Too many failed sign-ins. Try again in {minutes} minute(s)."
            return render_login(request, 429, {"Retry-After": str(int(wait) + 1)}, error=error, **kept)
        reviewer = authenticate(session, name, str(form.get("password", "")))
        if reviewer is None:
            throttle.fail(*keys)
            log.warning("review: failed sign-in as %r from %s", name, client)
            return render_login(request, 401, error="Unknown reviewer or wrong password.", **kept)
        throttle.forgive(keys[0])
        log.info("review: %s signed in from %s", reviewer.name, client)
        request.session.clear()  # a fresh session (and CSRF token) on every sign-in
        request.session["reviewer"] = reviewer.id
        item = session.get(Item, kept["draft_item"]) if kept["draft_item"] else None
        if item is not None:
            restored = "You are signed in again. Your draft is restored below: it is not saved yet."
            return render_item(request, session, item, reviewer, draft=kept["draft"], notice=restored)
        return RedirectResponse(kept["next"], status_code=303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        if not csrf_matches(request, await request.form()):
            raise HTTPException(status_code=403, detail="This page has expired: reload it and sign out again.")
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/")
    def items(
        request: Request,
        reviewer: Signed,
        session: Db,
        page: int = 1,
        language: str = "",
        severity: str = "",
        unreviewed: bool = False,
    ) -> HTMLResponse:
        shown = ItemFilter(language, severity, unreviewed)
        rows, page, pages = page_of(item_rows(session, reviewer.id, shown), page)
        mine, total = reviewed_by(session, reviewer.id)
        return render(
            request,
            "items.html",
            reviewer=reviewer,
            rows=rows,
            page=page,
            pages=pages,
            shown=shown,
            languages=languages(session),
            tiers=tiers,
            reviewed=mine,
            total=total,
        )

    @app.get("/items/{item_id:path}")
    def item_page(request: Request, item_id: str, reviewer: Signed, session: Db, saved: bool = False) -> HTMLResponse:
        item = session.get(Item, item_id) or not_found(item_id)
        return render_item(request, session, item, reviewer, saved=saved)

    @app.post("/items/{item_id:path}")
    async def judge(request: Request, item_id: str, session: Db, background: BackgroundTasks) -> Response:
        form = await request.form()
        draft = {field: str(form.get(field, "")) for field in FIELDS}
        reviewer = current_reviewer(request, session)
        if reviewer is None:
            expired = "Your session has expired. Sign in again to save your review: your draft is kept."
            return render_login(request, 401, draft=draft, draft_item=item_id, error=expired)
        item = session.get(Item, item_id) or not_found(item_id)
        if not csrf_matches(request, form):
            stale = "This form has expired (it was opened in an earlier session). Your draft is kept: save it again."
            return render_item(request, session, item, reviewer, 403, draft=draft, error=stale)
        judgment, errors = validate_judgment(draft, tiers, settings.max_field_chars)
        if judgment is None:
            reason = "Your review is not saved: " + "; ".join(errors.values())
            return render_item(request, session, item, reviewer, 400, draft=draft, error=reason, errors=errors)
        if judgment.corrected_code.strip() == (item.code or "").strip():
            judgment.corrected_code = ""  # the model's code, as prefilled: nothing corrected
        row = Judgment(item_id=item.id, reviewer_id=reviewer.id, **judgment.model_dump())
        session.add(row)
        session.commit()
        if row.corrected_code:
            background.add_task(run_correction, engine, params.sandbox, params.verify.timeout_s, row.id)
        return RedirectResponse(f"{item_url(item.id)}?saved=true", status_code=303)

    return app


def run_correction(engine: Engine, config: SandboxConfig, timeout_s: float, judgment_id: int) -> None:
    """Run a saved judgment's corrected code (after the response: the reviewer does not wait)."""
    try:
        with Session(engine) as session, session.begin():
            check_corrections(session, config, timeout_s, [judgment_id])
    except Exception:  # the app keeps serving; review-export runs what is still unverified
        log.exception("review: the corrected code of judgment %d could not be run", judgment_id)


def item_url(item_id: str) -> str:
    return "/items/" + quote(item_id, safe="")


def local_path(target: str) -> str:
    """`target` when it is a path on this site, else "/": a sign-in never redirects elsewhere."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


def session_secret(engine: Engine) -> str:
    """The key that signs session cookies: made once, kept in the database, so restarts keep sessions."""
    with Session(engine) as session, session.begin():
        setting = session.get(Setting, SECRET_KEY)
        if setting is None:
            setting = Setting(key=SECRET_KEY, value=secrets.token_urlsafe(32))
            session.add(setting)
        return setting.value


def csrf_token(request: Request) -> str:
    return request.session.setdefault("csrf", secrets.token_urlsafe(32))


def csrf_matches(request: Request, form) -> bool:
    expected = request.session.get("csrf")
    return bool(expected) and secrets.compare_digest(str(form.get("csrf", "")), expected)


def not_found(item_id: str):
    raise HTTPException(status_code=404, detail=f"There is no review item {item_id!r}.")


def latest_judgment(session: Session, item_id: str, reviewer_id: int) -> Judgment | None:
    query = select(Judgment).where(Judgment.item_id == item_id, Judgment.reviewer_id == reviewer_id)
    return session.scalar(query.order_by(Judgment.id.desc()).limit(1))


def other_reviewers(session: Session, item_id: str, reviewer_id: int) -> int:
    query = select(func.count(func.distinct(Judgment.reviewer_id)))
    return session.scalar(query.where(Judgment.item_id == item_id, Judgment.reviewer_id != reviewer_id))


def serve(engine: Engine, params: Params, port: int) -> None:
    """Serve on loopback only: put an authenticating TLS proxy in front to open it to a team."""
    import uvicorn

    uvicorn.run(create_app(engine, params), host="127.0.0.1", port=port)
