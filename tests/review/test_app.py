"""The review app over HTTP: sign-in required and throttled, CSRF checked, judgments validated and
appended, errors as pages that keep the draft, corrections run, the list sorted and filtered."""

from __future__ import annotations

import html
import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from ledex.pipeline.config import Params, ReviewParams
from review import listing
from review.app import create_app
from review.db import Item, Judgment

from .conftest import CORRECTED, FIXED, WRONG

ITEM = "/items/P%2F0%23s0%23er0"  # P/0#s0#er0
FORM = {"correctness": "4", "clarity": "4", "usefulness": "3", "vote": "1", "hallucination": "", "severity": "runtime"}
DRAFT = "def has_close(xs, t):\n    return 'my unsaved draft'\n"


def csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def textarea(page: str, name: str) -> str:
    return html.unescape(re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', page, re.S).group(1))


def client_for(url: str, params: Params | None = None) -> TestClient:
    return TestClient(create_app(create_engine(url), params or Params()))


def sign_in(client: TestClient, name: str = "bo") -> TestClient:
    token = csrf(client.get("/login").text)
    assert client.post("/login", data={"csrf": token, "name": name, "password": f"{name}-password"}).url.path == "/"
    return client


def signed_in(url: str, params: Params | None = None) -> TestClient:
    return sign_in(client_for(url, params))


def judgments(url: str) -> list[Judgment]:
    with Session(create_engine(url)) as session:
        return list(session.scalars(select(Judgment).order_by(Judgment.id)))


def test_every_page_needs_a_signed_in_reviewer(review_db):
    client = client_for(review_db)
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    response = client.get(ITEM, follow_redirects=False)
    target = urlsplit(response.headers["location"])
    assert (response.status_code, target.path, parse_qs(target.query)["next"]) == (303, "/login", [ITEM])
    assert client.post(ITEM, data=FORM).status_code == 401 and judgments(review_db) == []


def test_signing_in_returns_to_the_page_asked_for(review_db):
    client = client_for(review_db)
    page = client.get(ITEM)  # redirected to the sign-in form, which remembers the item
    response = client.post(
        "/login",
        data={"csrf": csrf(page.text), "name": "bo", "password": "bo-password", "next": ITEM},
        follow_redirects=False,
    )
    assert response.headers["location"] == ITEM
    elsewhere = {"csrf": csrf(client.get("/login").text), "name": "bo", "password": "bo-password"}
    response = client.post("/login", data={**elsewhere, "next": "//evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_a_post_without_the_sessions_csrf_token_is_refused(review_db):
    client = signed_in(review_db)
    assert client.post(ITEM, data={**FORM, "csrf": "forged"}).status_code == 403
    assert client.post("/login", data={"name": "bo", "password": "bo-password"}).status_code == 403
    assert judgments(review_db) == []


def test_a_stale_form_comes_back_as_the_form_with_the_draft(review_db):
    client = signed_in(review_db)
    response = client.post(ITEM, data={**FORM, "csrf": "from-an-earlier-session", "corrected_code": DRAFT})
    assert response.status_code == 403 and response.headers["content-type"].startswith("text/html")
    assert "This form has expired" in response.text and textarea(response.text, "corrected_code") == DRAFT
    assert re.search(r'name="correctness" value="4" required\s+checked', response.text)  # grades are kept too
    resaved = client.post(ITEM, data={**FORM, "csrf": csrf(response.text), "corrected_code": DRAFT})
    assert "Your review is saved" in resaved.text and judgments(review_db)[0].corrected_code == DRAFT


def test_an_expired_session_keeps_the_draft_through_signing_in_again(review_db):
    client = client_for(review_db)  # no session: it expired, or the server's key changed
    response = client.post(ITEM, data={**FORM, "corrected_explanation": "It compares each element with itself."})
    assert response.status_code == 401 and "Your session has expired" in response.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', response.text))
    assert hidden["draft_item"] == "P/0#s0#er0" and hidden["draft_correctness"] == "4"

    restored = client.post("/login", data={**hidden, "name": "bo", "password": "bo-password"})
    assert restored.status_code == 200 and "Your draft is restored" in restored.text
    assert textarea(restored.text, "corrected_explanation") == "It compares each element with itself."
    assert judgments(review_db) == []  # restored, not saved: the reviewer saves it
    saved = client.post(ITEM, data={**FORM, "csrf": csrf(restored.text), "corrected_explanation": "It compares."})
    assert "Your review is saved" in saved.text


def test_saving_twice_appends_and_the_form_shows_the_newest(review_db):
    client = signed_in(review_db)
    token = csrf(client.get(ITEM).text)
    client.post(ITEM, data={**FORM, "csrf": token})
    page = client.post(ITEM, data={**FORM, "csrf": token, "correctness": "2", "hallucination": "misread_error"})
    assert "Your review is saved" in page.text and 'value="misread_error" selected' in page.text
    assert [j.correctness for j in judgments(review_db)] == [4, 2]


def test_an_invalid_review_is_shown_again_with_the_reason_and_the_draft(review_db):
    client = signed_in(review_db, Params(review=ReviewParams(max_field_chars=100)))
    token = csrf(client.get(ITEM).text)
    for bad, reason in (
        ({"correctness": "6"}, "less than or equal to 5"),
        ({"severity": "cosmetic"}, "unknown severity"),
        ({"hallucination": "typo"}, "unknown hallucination kind"),
        ({"corrected_code": "x" * 101}, "101 characters is too long: at most 100"),
    ):
        response = client.post(ITEM, data={**FORM, **bad, "csrf": token, "corrected_explanation": "my draft"})
        assert response.status_code == 400 and reason in response.text
        assert 'class="field-error"' in response.text
        assert textarea(response.text, "corrected_explanation") == "my draft"
    assert judgments(review_db) == []


def test_errors_are_pages_not_json(review_db):
    client = signed_in(review_db)
    for path, status in (("/items/nothing-here", 404), ("/?page=first", 400)):
        response = client.get(path)
        assert response.status_code == status and response.headers["content-type"].startswith("text/html")
        assert 'role="alert"' in response.text


def test_failed_sign_ins_are_throttled_and_logged(review_db, caplog):
    client = client_for(review_db, Params(review=ReviewParams(login_failures=2, login_window_s=600)))
    caplog.set_level(logging.INFO, logger="ledex.review")
    for _ in range(2):
        wrong = {"csrf": csrf(client.get("/login").text), "name": "bo", "password": "guess"}
        assert client.post("/login", data=wrong).status_code == 401
    right = {"csrf": csrf(client.get("/login").text), "name": "bo", "password": "bo-password"}
    response = client.post("/login", data=right)
    assert response.status_code == 429 and "Try again in 10 minute(s)" in response.text
    assert 590 <= int(response.headers["retry-after"]) <= 601
    other_account = client.post("/login", data={**right, "name": "ada", "password": "ada-password"})
    assert other_account.status_code == 429  # this client address is throttled too
    assert caplog.text.count("failed sign-in as 'bo'") == 2 and "refused: too many failures" in caplog.text


def test_the_item_page_shows_the_diff_the_rubric_and_the_models_code_to_edit(review_db):
    page = signed_in(review_db).get(ITEM).text
    diff = re.search(r'<pre class="diff" id="diff">(.*?)</pre>', page, re.S).group(1)
    assert '<span class="removed">-    return any(abs(a - b) &lt; t for a in xs for b in xs)</span>' in diff
    assert '<span class="added">+    return any(abs(a - b) &lt; t for i, a in enumerate(xs)' in diff
    assert "Non-existent API" in page and "wrong root cause" in page and "1–5" in page
    assert textarea(page, "corrected_code") == FIXED


def test_the_models_code_saved_unchanged_is_no_correction(review_db):
    client = signed_in(review_db)
    page = client.get(ITEM).text
    client.post(ITEM, data={**FORM, "csrf": csrf(page), "corrected_code": textarea(page, "corrected_code")})
    [judgment] = judgments(review_db)
    assert judgment.corrected_code == "" and judgment.correction_status is None


@pytest.mark.parametrize(
    ("code", "status", "shown"),
    [(CORRECTED, "passed", "passes the tests"), (WRONG, "failed", "never used for training")],
)
def test_a_corrected_code_is_run_and_its_verdict_shown(review_db, code, status, shown):
    client = signed_in(review_db)
    item = "/items/P%2F0%23s0%23er1"
    page = client.post(item, data={**FORM, "csrf": csrf(client.get(item).text), "corrected_code": code}).text
    [judgment] = judgments(review_db)
    assert (judgment.corrected_code, judgment.correction_status) == (code, status)
    assert shown in page and (status == "passed") == (judgment.correction_message == "")
    if status != "passed":
        assert "actual: True" in judgment.correction_message and "actual: True" in html.unescape(page)


def add_items(url: str, *ids: str) -> None:
    """Copies of a loaded item under new ids."""
    with Session(create_engine(url)) as session, session.begin():
        model = session.get(Item, "P/0#s0#r0")
        columns = {c.key: getattr(model, c.key) for c in Item.__table__.columns if c.key not in ("id", "loaded_at")}
        session.add_all(Item(**{**columns, "id": item_id}) for item_id in ids)


def test_the_list_sorts_naturally_and_counts_my_reviews(review_db):
    add_items(review_db, "P/10#s0#r0", "P/2#s0#r0")
    client = signed_in(review_db)
    client.post(ITEM, data={**FORM, "csrf": csrf(client.get(ITEM).text)})
    page = client.get("/").text
    ids = re.findall(r'<td><a href="/items/[^"]+">([^<]+)</a></td>', page)
    assert ids == ["P/0#s0#er0", "P/0#s0#er1", "P/0#s0#r0", "P/0#s1#er0", "P/2#s0#r0", "P/10#s0#r0"]
    assert "You reviewed <strong>1</strong> of 6 items." in page


def test_the_list_filters_and_keeps_its_filter_across_pages(review_db, monkeypatch):
    client = signed_in(review_db)
    client.post(ITEM, data={**FORM, "csrf": csrf(client.get(ITEM).text)})

    def shown(query: str) -> list[str]:
        return re.findall(r'<td><a href="/items/[^"]+">([^<]+)</a></td>', client.get(f"/?{query}").text)

    assert shown("severity=runtime") == ["P/0#s1#er0"]
    assert shown("unreviewed=1") == ["P/0#s0#er1", "P/0#s0#r0", "P/0#s1#er0"]
    assert shown("language=java") == [] and "No item matches this filter" in client.get("/?language=java").text
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    first = client.get("/?language=python&severity=wrong_answer").text
    assert 'href="/?language=python&amp;severity=wrong_answer&amp;page=2">Next</a>' in first
    assert shown("language=python&severity=wrong_answer&page=2") == ["P/0#s0#r0"]
