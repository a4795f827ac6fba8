"""The review web app: reviewers sign in, read a refinement in its context, and judge it.

Server-rendered HTML (Jinja2 templates, one stylesheet, no JavaScript). Sessions are signed
cookies (SameSite=Strict, HttpOnly) keyed by a secret the database keeps; every form carries the
session's CSRF token, checked on each POST. Only signed-in reviewers read or write. Saving a
review adds a judgment (`review.db`), so earlier ones stay on record.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.middleware.sessions import SessionMiddleware

from review.accounts import authenticate
from review.db import GRADES, HALLUCINATIONS, VOTES, Item, Judgment, Reviewer, Setting

HERE = Path(__file__).parent
SECRET_KEY = "session_secret"
SESSION_HOURS = 12
PAGE_SIZE = 50


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


def database(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


Db = Annotated[Session, Depends(database)]


def signed_in(request: Request, session: Db) -> Reviewer:
    reviewer_id = request.session.get("reviewer")
    reviewer = session.get(Reviewer, reviewer_id) if reviewer_id is not None else None
    if reviewer is None or reviewer.password_hash is None:
        raise SignInRequired
    return reviewer


Signed = Annotated[Reviewer, Depends(signed_in)]


def create_app(engine: Engine, severity_tiers: list[str]) -> FastAPI:
    """The app on `engine` (already migrated); reviewers choose a bug's severity among `severity_tiers`."""
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
    templates.env.filters["url"] = lambda item_id: "/items/" + quote(item_id, safe="")

    app.state.engine = engine

    def render(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
        context.update(csrf=csrf_token(request), grades=GRADES, votes=VOTES, hallucinations=HALLUCINATIONS)
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    def item_context(session: Session, item: Item, reviewer: Reviewer) -> dict:
        return {
            "reviewer": reviewer,
            "item": item,
            "tiers": severity_tiers,
            "mine": latest_judgment(session, item.id, reviewer.id),
            "others": other_reviewers(session, item.id, reviewer.id),
            "next_item": next_unreviewed(session, reviewer.id),
        }

    @app.exception_handler(SignInRequired)
    async def to_sign_in(request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.get("/login")
    def login_form(request: Request) -> HTMLResponse:
        return render(request, "login.html")

    @app.post("/login")
    async def login(request: Request, session: Db) -> Response:
        form = await checked_form(request)
        reviewer = authenticate(session, str(form.get("name", "")), str(form.get("password", "")))
        if reviewer is None:
            return render(request, "login.html", 401, error="Unknown reviewer or wrong password.")
        request.session.clear()  # a fresh session (and CSRF token) on every sign-in
        request.session["reviewer"] = reviewer.id
        return RedirectResponse("/", status_code=303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        await checked_form(request)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/")
    def items(request: Request, reviewer: Signed, session: Db, page: int = 1) -> HTMLResponse:
        reviewers = func.count(func.distinct(Judgment.reviewer_id))
        mine = func.max(case((Judgment.reviewer_id == reviewer.id, 1), else_=0))
        query = (
            select(Item, reviewers, mine)
            .outerjoin(Judgment)
            .group_by(Item.id)
            .order_by(Item.id)
            .limit(PAGE_SIZE)
            .offset((max(page, 1) - 1) * PAGE_SIZE)
        )
        total = session.scalar(select(func.count(Item.id)))
        rows = [(item, count, bool(reviewed)) for item, count, reviewed in session.execute(query)]
        pages = max(1, -(-total // PAGE_SIZE))
        return render(request, "items.html", reviewer=reviewer, rows=rows, page=page, pages=pages)

    @app.get("/items/{item_id:path}")
    def item_page(request: Request, item_id: str, reviewer: Signed, session: Db, saved: bool = False) -> HTMLResponse:
        item = session.get(Item, item_id) or not_found(item_id)
        return render(request, "item.html", **item_context(session, item, reviewer), saved=saved)

    @app.post("/items/{item_id:path}")
    async def judge(request: Request, item_id: str, reviewer: Signed, session: Db) -> Response:
        item = session.get(Item, item_id) or not_found(item_id)
        form = await checked_form(request)
        try:
            judgment = JudgmentForm.model_validate(dict(form))
            if judgment.hallucination not in ("", *HALLUCINATIONS):
                raise ValueError(f"unknown hallucination kind {judgment.hallucination!r}")
            if judgment.severity not in severity_tiers:
                raise ValueError(f"unknown severity {judgment.severity!r}")
        except (ValidationError, ValueError) as err:
            return render(request, "item.html", 400, **item_context(session, item, reviewer), error=str(err))
        session.add(Judgment(item_id=item.id, reviewer_id=reviewer.id, **judgment.model_dump()))
        session.commit()
        return RedirectResponse(f"{templates.env.filters['url'](item.id)}?saved=true", status_code=303)

    return app


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


async def checked_form(request: Request):
    """The posted form, once its CSRF token matches the session's (403 otherwise)."""
    form = await request.form()
    expected = request.session.get("csrf")
    if not expected or not secrets.compare_digest(str(form.get("csrf", "")), expected):
        raise HTTPException(status_code=403, detail="the form's CSRF token does not match this session")
    return form


def not_found(item_id: str):
    raise HTTPException(status_code=404, detail=f"no review item {item_id!r}")


def latest_judgment(session: Session, item_id: str, reviewer_id: int) -> Judgment | None:
    query = select(Judgment).where(Judgment.item_id == item_id, Judgment.reviewer_id == reviewer_id)
    return session.scalar(query.order_by(Judgment.id.desc()).limit(1))


def other_reviewers(session: Session, item_id: str, reviewer_id: int) -> int:
    query = select(func.count(func.distinct(Judgment.reviewer_id)))
    return session.scalar(query.where(Judgment.item_id == item_id, Judgment.reviewer_id != reviewer_id))


def next_unreviewed(session: Session, reviewer_id: int) -> str | None:
    """The first item (by id) this reviewer has not judged yet."""
    judged = select(Judgment.item_id).where(Judgment.reviewer_id == reviewer_id)
    return session.scalar(select(Item.id).where(Item.id.not_in(judged)).order_by(Item.id).limit(1))


def serve(engine: Engine, severity_tiers: list[str], port: int) -> None:
    """Serve on loopback only: put an authenticating TLS proxy in front to open it to a team."""
    import uvicorn

    uvicorn.run(create_app(engine, severity_tiers), host="127.0.0.1", port=port)
