"""The API's Prometheus endpoint, scraped for real after some traffic: requests by route
template and status, latency histograms, and no case id (or any other id) in a label."""

import uuid

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from infra.sealing.family_keys import FamilyKeyStore
from models.db import SessionFactory
from models.payloads.vocabulary import StaffRole
from tests.support.api import api_client, api_settings, bearer, post_headers, synthetic_family
from tests.support.metrics import scrape
from tests.support.ports import server_port
from workers.worker import build_worker

SPECIALIST = bearer("metrics-specialist", StaffRole.SPECIALIST, ("berdsk",))
CASES = "/api/v1/cases"


async def test_requests_are_counted_by_route_template_and_status_without_ids(
    dev_env: WorkflowEnvironment,
    database_url: str,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    port = server_port()
    settings = api_settings(dev_env, database_url, task_queue, api_metrics_port=port)
    family = synthetic_family()
    unknown_case = str(uuid.uuid4())
    async with (
        build_worker(dev_env.client, task_queue=task_queue, sessions=sessions, keys=keys),
        api_client(settings) as api,
    ):
        opened = await api.post(
            CASES,
            headers=post_headers(SPECIALIST),
            json={"source": "agency_referral", "municipality": "berdsk", "family": family},
        )
        assert opened.status_code == 201, opened.text
        case = opened.json()["case"]
        case_id = case["case_id"]
        assert (await api.get(f"{CASES}/{case_id}", headers=SPECIALIST)).status_code == 200
        urgent = await api.post(
            f"{CASES}/{case_id}/urgent-services",
            headers=post_headers(SPECIALIST),
            json={"service": "food_set"},
        )
        assert urgent.status_code == 200, urgent.text
        assert (await api.get(f"{CASES}/{unknown_case}", headers=SPECIALIST)).status_code == 404
        assert (await api.get(f"/no-such-page/{unknown_case}")).status_code == 404
        assert (await api.get(CASES)).status_code == 401

        scraped = await scrape(f"http://127.0.0.1:{port}/metrics")

    counted = {
        (labels["method"], labels["route"], labels["status"])
        for labels in scraped.labelled("kurator_api_requests_total")
    }
    assert {
        ("POST", "/api/v1/cases", "201"),
        ("GET", "/api/v1/cases/{case_id}", "200"),
        ("POST", "/api/v1/cases/{case_id}/urgent-services", "200"),
        ("GET", "/api/v1/cases/{case_id}", "404"),
        ("GET", "unmatched", "404"),
        ("GET", "/api/v1/cases", "401"),
    } <= counted, counted
    timed = {
        (labels["method"], labels["route"])
        for labels in scraped.labelled("kurator_api_request_duration_seconds_bucket")
    }
    assert ("POST", "/api/v1/cases/{case_id}/urgent-services") in timed
    assert {"kurator_api_request_duration_seconds_sum"} <= scraped.names

    workflow_id = case["workflow_id"]
    ids = {case_id, unknown_case, family["registry_id"], workflow_id}
    ids |= {workflow_id.removeprefix("case-"), "Тестов"}  # the pseudonym; a member's name
    if case.get("first_run_id"):
        ids.add(case["first_run_id"])
    leaked = {value for value in scraped.label_values() if any(i in value for i in ids)}
    assert leaked == set(), f"ids or personal data in labels: {leaked}"

    # The endpoint lives as long as the app.
    with pytest.raises(httpx.TransportError):
        await scrape(f"http://127.0.0.1:{port}/metrics")


async def test_no_port_means_no_metrics_endpoint(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str
) -> None:
    settings = api_settings(dev_env, database_url, task_queue)
    assert settings.api_metrics_port is None
    async with api_client(settings) as api:
        assert (await api.get("/metrics")).status_code == 404  # not on the staff API either
