"""A person opens the dashboard in a real (headless) Chromium: signed in through the codec
sign-in page, the page renders its charts, with nothing refused by its policy and no console
error. The screenshot stays in the test's tmp_path, to look at."""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from models.payloads.vocabulary import StaffRole
from models.reports.catalogue import IndicatorId
from models.settings import Settings
from tests.support.api import api_settings, bearer
from tests.support.browser import Browser, chromium_binary
from tests.support.staff_directory import register_token_staff

pytestmark = pytest.mark.skipif(chromium_binary() is None, reason="chromium is not installed")

DASHBOARD = "/api/v1/reports/indicators.html?from=2026-03-01&to=2026-03-31"
_SIZES = """Array.from(document.querySelectorAll('svg.chart')).map(svg => {
  const box = svg.getBoundingClientRect();
  const bars = Array.from(svg.querySelectorAll('rect'))
    .filter(rect => rect.getBoundingClientRect().width > 0).length;
  return {width: box.width, height: box.height, bars: bars};
})"""


@asynccontextmanager
async def _served(settings: Settings) -> AsyncIterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_config=None, lifespan="on"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(30):
            while not server.started:
                assert not serving.done(), "uvicorn did not start"
                await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


def _look(url: str, token: str, screenshot: Path) -> dict[str, Any]:
    with Browser(width=1280, height=900) as browser:
        browser.goto(f"{url}/api/v1/reports/indicators.html")
        refused = browser.text()
        browser.goto(f"{url}/api/v1/codec/sign-in#token={token}")
        browser.wait_for("document.getElementById('result').dataset.state === 'signed-in'")
        browser.events.clear()  # the 401 above was a console error too: count the page's own
        browser.goto(f"{url}{DASHBOARD}")
        seen = {
            "refused": refused,
            "title": browser.evaluate("document.title"),
            "charts": browser.evaluate(_SIZES),
            "text": browser.text(),
            "errors": browser.console_errors(),
        }
        browser.screenshot(screenshot)
        return seen


async def test_the_dashboard_renders_its_charts_in_chromium(
    time_skipping_env: WorkflowEnvironment, report_database: str, task_queue: str, tmp_path: Path
) -> None:
    token = bearer("min-1", StaffRole.MINISTRY, ())["Authorization"].removeprefix("Bearer ")
    register_token_staff(report_database, token)
    screenshot = tmp_path / "dashboard.png"
    async with _served(api_settings(time_skipping_env, report_database, task_queue)) as url:
        seen = await asyncio.to_thread(_look, url, token, screenshot)
    assert "Нужен вход" in seen["refused"]
    assert "Войти с токеном сотрудника" in seen["refused"]
    assert seen["title"] == "Показатели пилота — Kurator"
    charts = seen["charts"]
    assert len(charts) == len(IndicatorId)
    for chart in charts:
        assert chart["width"] > 100, chart
        assert chart["height"] > 20, chart
        assert chart["bars"] > 0, chart
    assert "Соблюдение законных сроков (T2, T3)" in seen["text"]
    assert "ТЖС преодолена" in seen["text"]
    assert seen["errors"] == []
    assert screenshot.stat().st_size > 10_000
