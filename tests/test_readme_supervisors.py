"""The README's "For supervisors" links, opened in a real (headless) Chromium against a dev
server's Web UI: each lists exactly the cases its question asks for, among synthetic cases
started with the search attributes the case workflow sets (no worker: the attributes are given
at start, which is all the list reads). Every link's query is asked of the server; a few links,
one of each kind of term, are opened in the browser too (each page takes seconds). The links
and the column snippet are read from the README, so what it says is what is tested; the test's
own table of expectations must name the same queries. A screenshot of each page stays in
tmp_path, to look at."""

import asyncio
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from tests.support.browser import Browser, chromium_binary
from tests.support.ports import server_port
from workers.devstack.temporal_dev import find_binary
from workflows.search_attributes import (
    ACCOMPANIMENT_LEVEL,
    ALL_SEARCH_ATTRIBUTES,
    AWAITING_APPROVAL,
    CASE_NUMBER,
    CASE_STAGE,
    CURATOR,
    ESCALATION_LEVEL,
    MUNICIPALITY,
    OVERDUE,
)

pytestmark = pytest.mark.skipif(chromium_binary() is None, reason="chromium is not installed")

README = Path(__file__).resolve().parent.parent / "README.md"
UI = "http://127.0.0.1:8233"  # kurator dev's UI, as the README's links name it
LINK = re.compile(r"\]\((" + re.escape(UI) + r"/namespaces/default/workflows\?query=[^)\s]+)\)")
COLUMNS_KEY = "namespace-workflow-table-columns"


@dataclass(frozen=True)
class Case:
    """A synthetic case as the Web UI lists it: its workflow type and search attributes."""

    tag: str
    attributes: dict[SearchAttributeKey[Any], Any]
    workflow_type: str = "CaseWorkflow"
    closed: bool = False
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @property
    def workflow_id(self) -> str:
        return f"case-{self.tag}-{self.run}"


def _case(tag: str, municipality: str, stage: str, level: str, curator: str, **more: Any) -> Case:
    attributes: dict[SearchAttributeKey[Any], Any] = {
        MUNICIPALITY: municipality,
        CASE_STAGE: stage,
        ACCOMPANIMENT_LEVEL: level,
        CURATOR: curator,
        OVERDUE: more.pop("overdue", False),
        ESCALATION_LEVEL: more.pop("escalation", 0),
    }
    if "number" in more:
        attributes[CASE_NUMBER] = more.pop("number")
    if "awaiting" in more:
        attributes[AWAITING_APPROVAL] = more.pop("awaiting")
    return Case(tag, attributes, **more)


CASES = {
    case.tag: case
    for case in (
        _case("a", "berdsk", "support", "L2", "staff-101", overdue=True, escalation=1,
              number="БРД-2026-00042"),
        _case("b", "berdsk", "review", "L3", "staff-102", overdue=True, escalation=2),
        _case("c", "berdsk", "support", "L1", "staff-101", awaiting="closure"),
        _case("d", "berdsk", "prolongation", "L2", "staff-103", awaiting="prolongation"),
        _case("e", "iskitim_district", "planning", "L3", "staff-301", overdue=True,
              escalation=2, awaiting="closure", number="ИСР-2026-00042"),
        _case("f", "berdsk", "planning", "L3", "staff-104"),
        _case("g", "berdsk", "support", "L3", "staff-101", overdue=True, escalation=2,
              number="БРД-2026-00041", closed=True),
        _case("h", "berdsk", "closed", "L2", "staff-105", overdue=True, escalation=2,
              workflow_type="CaseFollowUpWorkflow"),
    )
}  # fmt: skip

ASK_OVERDUE = 'Municipality = "berdsk" AND Overdue = true AND ExecutionStatus = "Running"'
ASK_AWAITING = (
    'Municipality = "berdsk" AND AwaitingApproval IS NOT NULL AND ExecutionStatus = "Running"'
)
ASK_PLANS = 'Municipality = "berdsk" AND CaseStage = "planning" AND ExecutionStatus = "Running"'
ASK_HEAD = (
    'Municipality = "berdsk" AND WorkflowType = "CaseWorkflow" AND EscalationLevel >= 2 '
    'AND ExecutionStatus = "Running"'
)
ASK_CURATOR_CASES = 'Curator = "staff-101" AND ExecutionStatus = "Running"'
ASK_BY_NUMBER = 'CaseNumber = "БРД-2026-00042"'
ASK_CRISIS = 'Municipality = "berdsk" AND AccompanimentLevel = "L3" AND ExecutionStatus = "Running"'

# Each README query and the cases it must list (of the above: the others must not show).
EXPECTED = {
    ASK_OVERDUE: "abh",
    ASK_AWAITING: "cd",
    ASK_PLANS: "f",
    ASK_HEAD: "b",
    ASK_CURATOR_CASES: "ac",
    ASK_BY_NUMBER: "a",
    ASK_CRISIS: "bf",
}
# Every query is asked of the server; these links are also opened in the browser (a page
# takes seconds): one of each kind of term the UI must carry from its URL into its filter (a
# Bool, IS NOT NULL, >= with the workflow type, Cyrillic). The others are `=` on keywords.
IN_BROWSER = (ASK_OVERDUE, ASK_AWAITING, ASK_HEAD, ASK_BY_NUMBER)


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## For supervisors\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def _links() -> dict[str, str]:
    """The README's links by the query each opens."""
    links = LINK.findall(_section())
    return {parse_qs(urlsplit(link).query)["query"][0]: link for link in links}


def _columns_snippet() -> str:
    [snippet] = re.findall(r"```js\n(.*?)```", _section(), flags=re.DOTALL)
    return str(snippet)


async def _start(client: Client) -> None:
    for case in CASES.values():
        pairs = [SearchAttributePair(key, value) for key, value in case.attributes.items()]
        handle = await client.start_workflow(
            case.workflow_type,
            id=case.workflow_id,
            task_queue=f"no-worker-{uuid.uuid4().hex}",  # listed, never run
            search_attributes=TypedSearchAttributes(pairs),
        )
        if case.closed:
            await handle.terminate("closed")
    async with asyncio.timeout(20):  # the list reads the visibility store, written just after
        while True:
            running = [w async for w in client.list_workflows('ExecutionStatus = "Running"')]
            if len(running) == len(CASES) - 1:
                return
            await asyncio.sleep(0.2)


def _look(ui: str, links: dict[str, str], screenshots: Path) -> dict[str, Any]:
    """What each link lists (the synthetic workflow ids on its page) and its page's text, and
    the table's header, with the README's column snippet applied. The links of IN_BROWSER."""
    listed: dict[str, set[str]] = {}
    pages: dict[str, str] = {}
    with Browser(width=1600, height=900) as browser:
        browser.goto(f"{ui}/namespaces/default/workflows")
        browser.evaluate(_columns_snippet())
        for number, query in enumerate(IN_BROWSER, 1):
            browser.goto(links[query].replace(UI, ui))
            wanted = [CASES[tag].workflow_id for tag in EXPECTED[query]]
            browser.wait_for(
                f"{json.dumps(wanted)}.every((id) => document.body.innerText.includes(id))"
            )
            pages[query] = shown = browser.text()
            listed[query] = {tag for tag, case in CASES.items() if case.workflow_id in shown}
            browser.screenshot(screenshots / f"link-{number}.png")
        header = browser.evaluate(
            "Array.from(document.querySelectorAll('thead th')).map((th) => th.innerText.trim())"
        )
    return {"listed": listed, "header": header, "pages": pages}


async def _asked(client: Client, query: str) -> set[str]:
    """The cases the server lists for `query`."""
    ids = {execution.id async for execution in client.list_workflows(query)}
    return {tag for tag, case in CASES.items() if case.workflow_id in ids}


async def test_each_supervisor_link_lists_the_cases_it_promises(tmp_path: Path) -> None:
    links = _links()
    assert set(links) == set(EXPECTED), "the README's links and this test's table differ"
    ui_port = server_port()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        search_attributes=ALL_SEARCH_ATTRIBUTES,
        ui=True,
        ui_port=ui_port,
        dev_server_startup_timeout=timedelta(seconds=60),
    )
    try:
        await _start(env.client)
        asked = {query: await _asked(env.client, query) for query in links}
        seen = await asyncio.to_thread(_look, f"http://127.0.0.1:{ui_port}", links, tmp_path)
    finally:
        await env.shutdown()

    assert asked == {query: set(tags) for query, tags in EXPECTED.items()}
    assert seen["listed"] == {query: set(EXPECTED[query]) for query in IN_BROWSER}
    # The README's columns: the attributes, and their values (the overdue list names no
    # number, stage or approval in its filter: what shows of them is the columns').
    for column in ("CaseNumber", "CaseStage", "Curator", "NextDeadline", "AwaitingApproval"):
        assert column in seen["header"], seen["header"]
    assert "Run ID" not in seen["header"]
    assert "Workflow ID" in seen["header"]
    overdue = seen["pages"][ASK_OVERDUE]
    assert "БРД-2026-00042" in overdue
    assert "review" in overdue
