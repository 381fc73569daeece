"""`kurator demo`: fill a running stack with synthetic families in every stage, through the API.

Each run seeds NEW families (registry ids DEMO-<run tag>-0001...), so running it twice is safe:
the second run adds another set beside the first and never touches the earlier cases. `--seed`
makes the names, municipalities and scripts repeatable; the run tag is always fresh.

Cases follow the compressed policy (a working day is about 10 s), so the steps the demo leaves
undone on purpose turn overdue and escalate within a minute or two, and L3 cases reach their
review by themselves. Tokens are minted here with the stack's JWT secret (KURATOR_JWT_SECRET, or
the one `kurator dev` keeps in its data directory): specialists for most steps, supervisors for
approvals, a ministry reader for the summary.
"""

import asyncio
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.auth import issue_token
from infra.errors import report_errors
from models.payloads.vocabulary import StaffRole, Stage
from models.settings import Settings
from workers.demo.scenarios import DemoFamily, Step, make_families
from workers.devstack.secrets import stored_dev_secret

POLICY = "compressed"
CONCURRENCY = 6  # families seeded at once; each family's steps run in order
RETRIES = 5  # for 429/503 and lost connections, with the same Idempotency-Key
TOKEN_TTL = timedelta(hours=4)
# The ministry member the demo registers its staff as (`kurator dev` puts it in the directory).
DEMO_MINISTRY = "demo-ministry"
# The staff the demo registers in each municipality it uses (invented names); heads too, so
# that escalations to the head of a centre have someone to reach.
DEMO_ROLES = {
    StaffRole.SPECIALIST: "Специалист",
    StaffRole.SUPERVISOR: "Руководитель отделения",
    StaffRole.HEAD: "Руководитель центра",
}


class DemoError(Exception):
    """The demo cannot go on; the message says what the API (or the setup) answered."""


@dataclass
class Seeded:
    family: DemoFamily
    case_id: UUID | None = None


@dataclass
class DemoApi:
    """The staff API as the demo calls it: minted tokens, idempotent retried POSTs."""

    http: httpx.AsyncClient
    secret: bytes
    tokens: dict[tuple[str, StaffRole, str], str] = field(default_factory=dict)

    def auth(self, staff_id: str, role: StaffRole, municipality: str = "") -> dict[str, str]:
        key = (staff_id, role, municipality)
        if key not in self.tokens:
            self.tokens[key] = issue_token(
                secret=self.secret,
                staff_id=staff_id,
                role=role,
                municipalities=[municipality] if municipality else [],
                ttl=TOKEN_TTL,
            )
        return {"Authorization": f"Bearer {self.tokens[key]}"}

    async def check_health(self) -> None:
        try:
            response = await self.http.get("/health")
        except httpx.TransportError as error:
            raise DemoError(
                f"cannot reach the API at {self.http.base_url} ({type(error).__name__}); "
                "start the stack with `make run` or pass --api"
            ) from None
        if response.status_code != 200:
            raise DemoError(f"the stack is not healthy: GET /health answered {response.text}")

    async def post(self, path: str, body: dict[str, Any], auth: dict[str, str], key: str) -> Any:
        headers = {**auth, "Idempotency-Key": key}
        for attempt in range(RETRIES + 1):
            try:
                response = await self.http.post(path, json=body, headers=headers)
            except httpx.TransportError as error:
                if attempt == RETRIES:
                    raise DemoError(f"POST {path}: {type(error).__name__}: {error}") from None
                await asyncio.sleep(1)
                continue
            if response.status_code in (429, 503) and attempt < RETRIES:
                await asyncio.sleep(min(float(response.headers.get("Retry-After", 1)), 5))
                continue
            if response.is_success:
                return response.json()
            raise DemoError(f"POST {path} answered {response.status_code}: {_reason(response)}")
        raise AssertionError("unreachable")

    async def register_staff(self, families: list[DemoFamily]) -> None:
        """Put the demo's staff into the staff directory through the API, as the ministry:
        every request's token is checked against it. `demo-ministry` itself is in it already
        (`kurator dev` registers it; elsewhere `kurator staff add`, see the README)."""
        auth = self.auth(DEMO_MINISTRY, StaffRole.MINISTRY)
        for municipality in sorted({family.municipality for family in families}):
            for role, title in DEMO_ROLES.items():
                staff_id = f"demo-{role.value}-{municipality}"
                body = {
                    "full_name": f"Демо {title} ({municipality})",
                    "role": role.value,
                    "municipalities": [municipality],
                    "email": f"{staff_id}@example.org",
                    "reason": "kurator demo",
                }
                try:
                    response = await self.http.put(
                        f"/api/v1/staff/{staff_id}", json=body, headers=auth
                    )
                except httpx.TransportError as error:
                    raise DemoError(f"PUT /api/v1/staff: {type(error).__name__}") from None
                if response.status_code == 401:
                    raise DemoError(
                        f"the staff directory does not accept {DEMO_MINISTRY} "
                        f"({_reason(response)}); add it: kurator staff add --staff "
                        f"{DEMO_MINISTRY} --name 'Демо Министерство' --role ministry"
                    )
                if not response.is_success:
                    raise DemoError(
                        f"PUT /api/v1/staff answered {response.status_code}: {_reason(response)}"
                    )

    async def get(self, path: str) -> Any:
        auth = self.auth(DEMO_MINISTRY, StaffRole.MINISTRY)
        try:
            response = await self.http.get(path, headers=auth)
        except httpx.TransportError as error:
            raise DemoError(f"GET {path}: {type(error).__name__}: {error}") from None
        if not response.is_success:
            raise DemoError(f"GET {path} answered {response.status_code}: {_reason(response)}")
        return response.json()


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
        return f"{body.get('code', '?')}: {body.get('message', response.text)}"
    except ValueError:
        return response.text[:500] or response.reason_phrase


def jwt_secret(settings: Settings) -> bytes:
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value().encode()
    stored = stored_dev_secret(settings.data_dir, "KURATOR_JWT_SECRET")
    if stored is None:
        raise DemoError(
            f"no JWT secret: set KURATOR_JWT_SECRET, or KURATOR_DATA_DIR to the data directory "
            f"of the running `kurator dev` (looked in {settings.data_dir.resolve()})"
        )
    return stored.encode()


async def _run_family(
    api: DemoApi, seeded: Seeded, run_tag: str, advance: Any, gate: asyncio.Semaphore
) -> None:
    family = seeded.family
    async with gate:
        for number, step in enumerate(family.scenario.steps, start=1):
            auth = api.auth(family.staff(step.role), step.role, family.municipality)
            key = f"demo-{run_tag}-{family.number:04d}-{number:02d}-{step.action or 'open'}"
            try:
                if seeded.case_id is None:
                    seeded.case_id = await _open(api, family, step, auth, key)
                else:
                    path = f"/api/v1/cases/{seeded.case_id}/{step.action}"
                    await api.post(path, step.body(family), auth, key)
            except DemoError as error:
                who = f"{family.registry_id} ({family.scenario.name}, as {step.role})"
                raise DemoError(f"{who}: {error}") from None
            advance()


async def _open(
    api: DemoApi, family: DemoFamily, step: Step, auth: dict[str, str], key: str
) -> UUID:
    body = {
        **step.body(family),
        "municipality": family.municipality,
        "family": {
            "registry_id": family.registry_id,
            "members": family.members,
            "address": f"Демонстрационная ул., д. {family.number} (вымышленный адрес)",
        },
        "policy": POLICY,
    }
    created = await api.post("/api/v1/cases", body, auth, key)
    if created["joined"]:
        raise DemoError(f"{family.registry_id} joined an open episode: registry ids collided")
    return UUID(created["case"]["case_id"])


async def _views(api: DemoApi, seeded: list[Seeded]) -> list[dict[str, Any]]:
    ids = [s.case_id for s in seeded if s.case_id is not None]
    return list(await asyncio.gather(*(api.get(f"/api/v1/cases/{i}") for i in ids)))


def _complete(plan: list[Seeded], views: list[dict[str, Any]]) -> bool:
    """Every stage the scripts aim at is shown and, where a script leaves a step undone for
    that, some case is overdue and escalated beyond the supervisor."""
    scenarios = [seeded.family.scenario for seeded in plan]
    escalates = any(scenario.escalates for scenario in scenarios)
    return (
        {view["stage"] for view in views} >= {scenario.shows for scenario in scenarios}
        and any(view["overdue"] for view in views) >= escalates
        and any(view["escalation_level"] >= 2 for view in views) >= escalates
    )


async def seed(
    *,
    api_url: str,
    secret: bytes,
    families: int,
    seed_value: int | None,
    settle: float,
    console: Console,
) -> list[dict[str, Any]]:
    """Seed, let the first deadlines pass (at most `settle` seconds), return the case views."""
    run_tag = secrets.token_hex(3).upper()
    plan = [Seeded(f) for f in make_families(families, run_tag=run_tag, seed=seed_value)]
    scripts([seeded.family for seeded in plan], console)
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        api = DemoApi(http, secret)
        await api.check_health()
        await api.register_staff([seeded.family for seeded in plan])
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as progress:
            steps = sum(len(s.family.scenario.steps) for s in plan)
            task = progress.add_task(f"Seeding {families} families (run {run_tag})", total=steps)
            gate = asyncio.Semaphore(CONCURRENCY)

            def advance() -> None:
                progress.advance(task)

            async with asyncio.TaskGroup() as group:
                for seeded in plan:
                    group.create_task(_run_family(api, seeded, run_tag, advance, gate))
            views = await _views(api, plan)
            if settle > 0 and not _complete(plan, views):
                wait = progress.add_task("Letting compressed deadlines pass", total=settle)
                started = time.monotonic()
                while not _complete(plan, views) and time.monotonic() - started < settle:
                    await asyncio.sleep(2)
                    views = await _views(api, plan)
                    progress.update(wait, completed=min(time.monotonic() - started, settle))
                waited = time.monotonic() - started
                progress.update(wait, total=waited, completed=waited)
    return views


def scripts(families: list[DemoFamily], console: Console) -> None:
    """What the demo did to whom, and what the compressed clock does next."""
    used = Counter(family.scenario for family in families)
    table = Table(title="What the demo left undone on purpose")
    for column in ("Script", "Families", "Left in", "Next, on the compressed clock"):
        table.add_column(column, justify="right" if column == "Families" else "left")
    for scenario, count in used.items():
        table.add_row(scenario.name, str(count), scenario.leaves_in.value, scenario.then)
    console.print(table)


def summary(
    views: list[dict[str, Any]], settings: Settings, api_url: str, console: Console
) -> None:
    stages = Counter(view["stage"] for view in views)
    overdue = Counter(view["stage"] for view in views if view["overdue"])
    escalated = Counter(view["stage"] for view in views if view["escalation_level"] >= 2)
    table = Table(title="Demo cases by stage")
    for column in ("Stage", "Cases", "Overdue", "Escalated (head/ministry)"):
        table.add_column(column, justify="left" if column == "Stage" else "right")
    for stage in Stage:
        table.add_row(stage.value, str(stages[stage]), str(overdue[stage]), str(escalated[stage]))
    table.add_row(
        "total",
        str(len(views)),
        str(sum(overdue.values())),
        str(sum(escalated.values())),
        style="bold",
    )
    console.print(table)
    ui = f"http://127.0.0.1:{settings.temporal_ui_port}"
    address = f"127.0.0.1:{settings.temporal_port}"
    numbers = sorted(view["case_number"] for view in views if view.get("case_number"))
    if numbers:
        query = quote(f'CaseNumber = "{numbers[0]}"', safe="")
        console.print(
            f"Case numbers {numbers[0]} … {numbers[-1]}; one in the UI: "
            f"{ui}/namespaces/{settings.temporal_namespace}/workflows?query={query} "
            '(a supervisor\'s daily lists: README, "For supervisors")',
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        "More cases turn overdue and escalate over the next minutes (compressed policy: "
        "a working day is about 10 s); L3 cases enter review by themselves.\n"
        f"Temporal UI: {ui}/namespaces/{settings.temporal_namespace}/workflows "
        '(filter e.g. CaseStage = "review" or Overdue = true)\n'
        f'CLI: temporal workflow list --address {address} --query "Overdue = true"\n'
        'API: curl -H "Authorization: Bearer $(kurator token --staff staff-701 --role ministry)" '
        f"'{api_url}/api/v1/cases?overdue=true'",
        highlight=False,
        soft_wrap=True,
    )


def run_demo(
    settings: Settings, *, api_url: str, families: int, seed_value: int | None, settle: float
) -> int:
    """The `kurator demo` command; its exit status."""
    console = Console(width=max(Console().width, 100))  # the tables need 100 columns
    try:
        secret = jwt_secret(settings)
        views = asyncio.run(
            seed(
                api_url=api_url.rstrip("/"),
                secret=secret,
                families=families,
                seed_value=seed_value,
                settle=settle,
                console=console,
            )
        )
    except (DemoError, ExceptionGroup) as error:
        if not report_errors(error, DemoError, "demo stopped"):
            raise
        return 1
    summary(views, settings, api_url.rstrip("/"), console)
    return 0
