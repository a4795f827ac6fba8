"""Screenshots of the cycle for docs/: the Prefect UI (the weekly deployment, a finished cycle run)
and the MLflow UI (the registered model with its aliases), taken with headless Chromium.

With `ledex ui` serving the project's stores and `ledex deploy` done against it:

    .venv/bin/python scripts/ui_screenshots.py [--prefect http://127.0.0.1:4200]
        [--mlflow http://127.0.0.1:5000] [--model ledex-debugger] [--out docs/img]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1440, "height": 900}
RECENT_RUNS = 10
SETTLE_MS = 3000  # the UIs are single-page apps: let their data requests finish and render


def prefect_pages(prefect: str) -> dict[str, str]:
    """The weekly deployment's page and the page of the longest of the last completed cycle runs
    (one that ran the stages, not one that found them all up to date)."""
    api = f"{prefect}/api"
    deployment = httpx.get(f"{api}/deployments/name/ledex-cycle/weekly").raise_for_status().json()
    runs = (
        httpx.post(
            f"{api}/flow_runs/filter",
            json={
                "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
                "flows": {"name": {"any_": ["ledex-cycle"]}},
                "sort": "END_TIME_DESC",
                "limit": RECENT_RUNS,
            },
        )
        .raise_for_status()
        .json()
    )
    if not runs:
        raise SystemExit("no completed ledex-cycle run in this Prefect store: run `ledex run` first")
    return {
        "prefect-deployment.png": f"{prefect}/deployments/deployment/{deployment['id']}",
        "prefect-cycle-run.png": f"{prefect}/runs/flow-run/{max(runs, key=lambda run: run['total_run_time'])['id']}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefect", default="http://127.0.0.1:4200")
    parser.add_argument("--mlflow", default="http://127.0.0.1:5000")
    parser.add_argument("--model", default="ledex-debugger")
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    args = parser.parse_args()
    pages = prefect_pages(args.prefect) | {"mlflow-registered-model.png": f"{args.mlflow}/#/models/{args.model}"}
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(viewport=VIEWPORT)
        for name, url in pages.items():
            page.goto(url, wait_until="networkidle")
            page.wait_for_timeout(SETTLE_MS)
            page.screenshot(path=args.out / name)
            print(f"{args.out / name}  ←  {url}")
        browser.close()


if __name__ == "__main__":
    main()
