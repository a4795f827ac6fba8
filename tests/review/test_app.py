"""The review app over HTTP: sign-in required, CSRF checked, judgments validated and appended."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from review.app import create_app
from review.db import Judgment

from .conftest import SEVERITY

ITEM = "/items/P%2F0%23s0%23er0"  # P/0#s0#er0
FORM = {"correctness": "4", "clarity": "4", "usefulness": "3", "vote": "1", "hallucination": "", "severity": "runtime"}


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def signed_in(url: str) -> TestClient:
    client = TestClient(create_app(create_engine(url), list(SEVERITY.weights)))
    token = csrf(client.get("/login").text)
    assert client.post("/login", data={"csrf": token, "name": "bo", "password": "bo-password"}).url.path == "/"
    return client


def test_every_page_needs_a_signed_in_reviewer(review_db):
    client = TestClient(create_app(create_engine(review_db), list(SEVERITY.weights)))
    for path in ("/", ITEM):
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert client.post(ITEM, data=FORM, follow_redirects=False).status_code == 303


def test_a_post_without_the_sessions_csrf_token_is_refused(review_db):
    client = signed_in(review_db)
    assert client.post(ITEM, data={**FORM, "csrf": "forged"}).status_code == 403
    assert client.post("/login", data={"name": "bo", "password": "bo-password"}).status_code == 403


def test_saving_twice_appends_and_the_form_shows_the_newest(review_db):
    client = signed_in(review_db)
    token = csrf(client.get(ITEM).text)
    client.post(ITEM, data={**FORM, "csrf": token})
    page = client.post(ITEM, data={**FORM, "csrf": token, "correctness": "2", "hallucination": "misread_error"})
    assert "Your review is saved" in page.text and 'value="misread_error" selected' in page.text
    with Session(create_engine(review_db)) as session:
        assert [j.correctness for j in session.scalars(select(Judgment).order_by(Judgment.id))] == [4, 2]


def test_an_invalid_review_is_shown_again_with_the_reason(review_db):
    client = signed_in(review_db)
    token = csrf(client.get(ITEM).text)
    for bad, reason in (
        ({"correctness": "6"}, "less than or equal to 5"),
        ({"severity": "cosmetic"}, "unknown severity"),
        ({"hallucination": "typo"}, "unknown hallucination kind"),
    ):
        response = client.post(ITEM, data={**FORM, **bad, "csrf": token})
        assert response.status_code == 400 and reason in response.text
    assert client.get("/items/nothing-here").status_code == 404
