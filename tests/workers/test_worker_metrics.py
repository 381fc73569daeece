"""The worker's Prometheus endpoint (the Temporal SDK's metrics), scraped for real from a
`kurator worker` process after it ran a case; and a taken port named at start."""

import asyncio
import socket
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from tests.support.cases import open_case
from tests.support.metrics import Scrape, scrape
from tests.support.polling import eventually
from tests.support.ports import server_port
from tests.support.worker_process import worker_process

# What an operator's alerts and dashboards read (README, "Metrics and alerts").
EXPECTED = {
    "temporal_workflow_task_execution_latency_seconds_bucket",
    "temporal_workflow_task_schedule_to_start_latency_seconds_bucket",
    "temporal_workflow_task_replay_latency_seconds_bucket",
    "temporal_activity_execution_latency_seconds_bucket",
    "temporal_activity_schedule_to_start_latency_seconds_bucket",
    "temporal_local_activity_execution_latency_seconds_bucket",
    "temporal_sticky_cache_size",
    "temporal_sticky_cache_hit_total",
    "temporal_num_pollers",
    "temporal_worker_task_slots_available",
    "temporal_request_total",
}


async def test_the_sdks_metrics_are_served_with_task_queue_and_type_labels_only(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str, tmp_path: Path
) -> None:
    port = server_port()
    url = f"http://127.0.0.1:{port}/metrics"
    with worker_process(
        dev_env,
        database_url,
        task_queue,
        tmp_path / "worker.log",
        KURATOR_WORKER_METRICS_PORT=str(port),
    ):
        handle, outcome = await open_case(dev_env.client, task_queue)

        def complete(scraped: Scrape) -> bool:
            return scraped.names >= EXPECTED

        # The SDK exports a metric once it has something to report; the case gives it that.
        scraped = await eventually(lambda: scrape(url), complete, within=20, what="metrics")

    latencies = scraped.labelled("temporal_workflow_task_execution_latency_seconds_bucket")
    assert {labels["task_queue"] for labels in latencies} == {task_queue}
    assert {labels["workflow_type"] for labels in latencies} == {"CaseWorkflow"}
    activities = scraped.labelled("temporal_activity_execution_latency_seconds_bucket")
    assert "load_case_policy" in {labels["activity_type"] for labels in activities}
    # Steps persist as local activities (workflows/case_runtime.py).
    local = scraped.labelled("temporal_local_activity_execution_latency_seconds_bucket")
    assert "persist_step" in {labels["activity_type"] for labels in local}
    ids = {handle.id, handle.id.removeprefix("case-"), str(outcome.view.case_id)}
    ids |= {run for run in (handle.first_execution_run_id, handle.result_run_id) if run}
    leaked = {value for value in scraped.label_values() if any(i in value for i in ids)}
    assert leaked == set(), f"ids in labels: {leaked}"
    assert (tmp_path / "worker.log").read_text().count(url) == 1, "where metrics are not logged"


async def test_a_taken_metrics_port_is_named_and_the_worker_exits(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str, tmp_path: Path
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        log = tmp_path / "worker.log"
        with worker_process(
            dev_env, database_url, task_queue, log, KURATOR_WORKER_METRICS_PORT=str(port)
        ) as process:
            status = await asyncio.to_thread(process.wait, 60)
    assert status == 1
    assert f"worker metrics: cannot listen on 127.0.0.1:{port}" in log.read_text()
