"""The worker process: settings -> engine -> activities -> Temporal worker."""

import asyncio
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.audit_anchor import AuditAnchorActivities
from activities.case_numbers import CaseNumberActivities
from activities.case_records import CaseRecordActivities
from activities.notification_digest import DigestActivities
from activities.policy_context import PolicyActivities
from activities.resource_reviews import ResourceReviewActivities
from activities.social_contract_records import SocialContractActivities
from infra.audit.anchor_keys import AnchorKeyError, read_signing_key
from infra.audit.anchor_schedule import ensure_anchor_schedule
from infra.delivery.digest_schedule import ensure_digest_schedule
from infra.logs import get_logger
from infra.metrics import bind_address
from infra.resource_review_schedule import ensure_review_schedule
from infra.sealing.codec import KeySource
from infra.sealing.setup import sealing_from_settings
from infra.temporal_client import connect_temporal
from models.db import SessionFactory, make_async_engine, make_session_factory
from models.settings import DEFAULT_MAX_CACHED_WORKFLOWS, Settings, SettingsError
from workers.dispatch import channels_from, templates_from
from workers.worker_metrics import metrics_runtime
from workflows.audit_anchor import AuditAnchorWorkflow
from workflows.case import CaseWorkflow
from workflows.follow_up import CaseFollowUpWorkflow
from workflows.notification_digest import NotificationDigestWorkflow
from workflows.resource_reviews import ResourceReviewWorkflow
from workflows.social_contract import SocialContractWorkflow

log = get_logger(__name__)

# How long a case's next workflow task waits on the sticky queue of the worker that has the
# case cached before the server gives it to any worker on the task queue (which replays the
# history). The SDK's default, 10 s, equals the API's update timeout: after a worker was
# killed, each of its cases' next action answered 503 at 10 s. At 3 s a killed worker's cases
# answer after about 3 s plus a replay, well inside the API's 10 s. Shorter would send a task
# to a full replay whenever a busy but live worker is slow to take it (it has 3 s to).
STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT = timedelta(seconds=3)

# The sandbox re-imports each workflow's modules for every workflow it creates (a new case,
# or one replayed after leaving the cache). Kurator's models (the lifecycle rules, payloads
# and policy) are deterministic and keep no state, so they are shared instead of re-imported.
SHARED_MODULES = ("models", "pydantic", "pydantic_core", "annotated_types")
# The workflow modules that define no workflow: the case runtime and its updates, the search
# attributes, the ids. Shared as well: re-importing them was a fifth of a new case's cost in
# the worker. The price is that the sandbox no longer catches a non-deterministic call in them
# at run time, so tests/workflows/test_replay.py replays every committed history also with
# them sandboxed (SHARED_MODULES alone), and tests/workflows/test_workflow_modules.py checks
# that no workflow definition hides among them. The workflow definitions stay sandboxed.
WORKFLOW_HELPER_MODULES = (
    "workflows.calendar_refresh",
    "workflows.case_runtime",
    "workflows.ids",
    "workflows.search_attributes",
    "workflows.social_contract_start",
    "workflows.staff_updates",
    "workflows.workflow_types",
)
PASSED_THROUGH_MODULES = SHARED_MODULES + WORKFLOW_HELPER_MODULES


# Every workflow a Kurator worker runs; a replay of a recorded history needs the same.
WORKFLOWS = (
    CaseWorkflow,
    CaseFollowUpWorkflow,
    AuditAnchorWorkflow,
    ResourceReviewWorkflow,
    SocialContractWorkflow,
    NotificationDigestWorkflow,
)


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox Kurator's workflows run in: the worker's, and the bench's replays (which
    must pay what a worker pays for a cache miss, no more, no less)."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH_MODULES)
    )


def build_worker(
    client: Client,
    *,
    task_queue: str,
    sessions: SessionFactory,
    keys: KeySource,
    calendar_file: Path | None = None,
    max_cached_workflows: int = DEFAULT_MAX_CACHED_WORKFLOWS,
    anchors: AuditAnchorActivities | None = None,
    digests: DigestActivities | None = None,
) -> Worker:
    """The worker with every Kurator workflow and activity; tests use it as production does.
    `calendar_file` replaces the shipped production calendar (tests publish a year with it);
    `max_cached_workflows=0` replays every task from its history, as after a restart. `keys`
    seal what the activities store, as they seal the client's payloads (the same store).
    `anchors` writes the audit anchors (without it, a scheduled anchor waits for a worker
    that has them). `digests` queues the daily digests (likewise)."""
    records = CaseRecordActivities(sessions, keys)
    policies = PolicyActivities(calendar_file)
    numbers = CaseNumberActivities(sessions)
    activities: list[Callable[..., Any]] = [
        records.persist_step,
        numbers.allocate_case_number,
        policies.load_case_policy,
        policies.refresh_calendar,
        ResourceReviewActivities(sessions).flag_resource_reviews,
        SocialContractActivities(sessions, keys).persist_contract_step,
    ]
    if anchors is not None:
        activities.append(anchors.write_anchor)
    if digests is not None:
        activities.append(digests.queue_digests)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        max_cached_workflows=max_cached_workflows,
        activities=activities,
        sticky_queue_schedule_to_start_timeout=STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT,
        workflow_runner=workflow_runner(),
    )


def keep_bytecode() -> None:
    """Let this process cache compiled modules (in a directory of its own) even where
    PYTHONDONTWRITEBYTECODE is set: every workflow the sandbox creates imports the workflow
    modules anew, and without cached bytecode each import compiles them from source."""
    if sys.dont_write_bytecode:
        # Reused across restarts: a cached module is checked against its source's mtime.
        sys.pycache_prefix = str(Path(tempfile.gettempdir()) / f"kurator-pycache-{os.getuid()}")
        sys.dont_write_bytecode = False


def anchor_activities(settings: Settings, sessions: SessionFactory) -> AuditAnchorActivities | None:
    """The audit anchors' activity, when both its settings are set (None, with a warning, when
    neither is). Raises SettingsError when only one is, or the key cannot be read."""
    log_path, key_file = settings.audit_anchor_log, settings.audit_signing_key_file
    if log_path is None and key_file is None:
        log.warning(
            "audit anchors are off: set KURATOR_AUDIT_ANCHOR_LOG and "
            "KURATOR_AUDIT_SIGNING_KEY_FILE, or a deleted or rewritten case goes unnoticed"
        )
        return None
    key_file = settings.require_audit_signing_key_file()
    try:
        read_signing_key(key_file)  # fail at start, not at the first anchor
    except AnchorKeyError as error:
        raise SettingsError(f"KURATOR_AUDIT_SIGNING_KEY_FILE: {error}") from None
    return AuditAnchorActivities(
        sessions, anchor_log=settings.require_audit_anchor_log(), signing_key_file=key_file
    )


def _metrics_runtime(settings: Settings) -> Runtime | None:
    """The SDK runtime serving the worker's metrics, when a port is set (else the default)."""
    if settings.worker_metrics_port is None:
        return None
    runtime = metrics_runtime(settings.metrics_host, settings.worker_metrics_port)
    address = bind_address(settings.metrics_host, settings.worker_metrics_port)
    log.info("worker metrics for Prometheus", url=f"http://{address}/metrics")
    return runtime


async def run_worker(settings: Settings) -> None:
    """Poll Kurator's task queue until SIGINT or SIGTERM, then finish running tasks and exit."""
    keep_bytecode()
    engine = make_async_engine(
        settings.require_database_url(), pool_size=settings.database_pool_size
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        runtime = _metrics_runtime(settings)
        sessions = make_session_factory(engine)
        anchors = anchor_activities(settings, sessions)
        keys, data_converter = sealing_from_settings(settings, sessions)
        client = await connect_temporal(
            settings.require_temporal_address(),
            settings.temporal_namespace,
            data_converter=data_converter,
            runtime=runtime,
        )
        digests = DigestActivities(
            sessions,
            templates=templates_from(settings),
            channels=channels_from(settings),
            link_base=settings.case_link_base_url,
        )
        worker = build_worker(
            client,
            task_queue=settings.task_queue,
            sessions=sessions,
            keys=keys,
            max_cached_workflows=settings.max_cached_workflows,
            anchors=anchors,
            digests=digests,
        )
        async with worker:
            log.info(
                "worker polling",
                task_queue=settings.task_queue,
                max_cached_workflows=settings.max_cached_workflows,
            )
            if anchors is not None:
                interval = timedelta(seconds=settings.audit_anchor_interval_seconds)
                await ensure_anchor_schedule(
                    client, task_queue=settings.task_queue, interval=interval
                )
                log.info("audit anchor schedule set", every_seconds=interval.total_seconds())
            await ensure_review_schedule(client, task_queue=settings.task_queue)
            await ensure_digest_schedule(
                client, task_queue=settings.task_queue, local_hour=settings.digest_hour
            )
            log.info("daily digest schedule set", local_hour=settings.digest_hour)
            await stop.wait()
            log.info("worker stopping")
    finally:
        await engine.dispose()
