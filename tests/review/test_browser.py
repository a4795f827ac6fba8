"""A reviewer session in headless Chromium: sign in, grade two refinements, flag a hallucination,
correct one (whose code is run against its tests), filter the list; the export holds the judgments
and reward-fit trains its reward model on them."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from ledex.pipeline.config import Params, ReviewParams, RewardFitParams
from ledex.pipeline.jsonl import read_jsonl
from ledex.pipeline.paths import DEMONSTRATIONS, PREFERENCES
from review.app import create_app
from review.export import export_feedback
from stages.reward_fit import fit_reward_model, read_expert_preferences

from .conftest import CORRECTED, FIXED, SEVERITY

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (Debian package chromium)"),
]


@pytest.fixture
def app_url(review_db):
    """The review app served by uvicorn on a free loopback port, in a thread of this process."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(create_engine(review_db), Params()),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the review app did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_a_browser_review_ends_in_the_exported_preferences(app_url, review_db, tiny_reward_base):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        page = browser.new_page()
        page.goto(app_url)
        expect(page).to_have_url(f"{app_url}/login")  # no anonymous access
        page.fill("input[name=name]", "ada")
        page.fill("input[name=password]", "not ada's password")
        page.click("button[type=submit]")
        expect(page.get_by_role("alert")).to_contain_text("wrong password")
        page.fill("input[name=name]", "ada")
        page.fill("input[name=password]", "ada-password")
        page.click("button[type=submit]")
        expect(page.locator("#reviewer")).to_have_text("ada")

        page.click("text=P/0#s0#er0")
        expect(page.locator("#verdict")).to_have_text("passed")
        expect(page.locator("#diff .added").first).to_contain_text("enumerate(xs)")
        expect(page.locator("textarea[name=corrected_code]")).to_have_value(FIXED)
        for grade, value in (("correctness", 5), ("clarity", 4), ("usefulness", 5)):
            page.check(f"input[name={grade}][value='{value}']")
        page.check("input[name=vote][value='1']")
        page.select_option("select[name=severity]", "runtime")  # the pipeline said wrong_answer
        page.click("text=Save review")
        expect(page.get_by_role("status")).to_contain_text("Your review is saved")

        page.click("text=Next item to review")
        expect(page.locator("h1")).to_have_text("P/0#s0#er1")
        expect(page.locator("#verdict")).to_have_text("failed")
        for grade in ("correctness", "clarity", "usefulness"):
            page.check(f"input[name={grade}][value='1']")
        page.check("input[name=vote][value='-1']")
        page.select_option("select[name=hallucination]", "nonexistent_api")
        page.select_option("select[name=severity]", "runtime")
        page.fill("textarea[name=corrected_code]", CORRECTED)
        page.click("text=Save review")
        expect(page.get_by_role("status")).to_contain_text("Your review is saved")
        deadline = time.monotonic() + 20  # the corrected code runs after the response, in the background
        while "passes the tests" not in page.locator("#correction-verdict").inner_text():
            assert time.monotonic() < deadline, "the corrected code got no verdict"
            page.wait_for_timeout(200)
            page.reload()

        page.goto(app_url)
        expect(page.locator("#progress")).to_have_text("You reviewed 2 of 4 items.")
        page.check("input[name=unreviewed]")
        page.click("text=Filter")
        expect(page.locator("tbody a")).to_have_text(["P/0#s0#r0", "P/0#s1#er0"])
        browser.close()

    metrics = export_feedback(Params(review=ReviewParams(database=review_db)))
    assert metrics["hallucinations"] == {"nonexistent_api": 1} and metrics["batches"]["1"]["judgments"] == 2
    preferences = list(read_jsonl(PREFERENCES))
    assert [(p["source"], p["severity"]) for p in preferences] == [("correction", "runtime"), ("judgments", "runtime")]
    assert CORRECTED.strip() in preferences[0]["chosen"] and "xs.has_close(t)" in preferences[0]["rejected"]
    assert [d["format"] for d in read_jsonl(DEMONSTRATIONS)] == ["explain_refine"]

    settings = RewardFitParams(
        reward_model=str(tiny_reward_base),
        reward_model_batch_size=1,
        reward_model_max_length=256,
        held_out_fraction=0.5,
    )
    assert fit_reward_model(read_expert_preferences(settings, SEVERITY), settings, SEVERITY)["status"] == "trained"
