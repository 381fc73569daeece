"""The API opens a case with its policy and calendar in the start's input: the case needs no
`load_case_policy` activity (one activity and one workflow task fewer per intake), and holds
exactly what the activity would have given it. A policy the API cannot give is left to the
case, which loads it (and refuses an unknown one) as before."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from api.intake_policy import intake_policy_context
from models.db import SessionFactory
from models.payloads.case_start import CaseInput
from models.payloads.vocabulary import StaffRole
from models.policy.case_context import case_policy_context
from tests.support.api import api_client, api_settings, bearer
from tests.support.audit_api import open_case
from tests.support.sealing import test_key_store
from workers.worker import build_worker

MUNICIPALITY = "kochenevo_district"


async def test_an_intake_opens_its_case_with_the_policy_in_the_start(
    dev_env: WorkflowEnvironment, database_url: str, sessions: SessionFactory, task_queue: str
) -> None:
    specialist = bearer(f"curator-{uuid.uuid4().hex[:8]}", StaffRole.SPECIALIST, (MUNICIPALITY,))
    async with (
        build_worker(
            dev_env.client, task_queue=task_queue, sessions=sessions, keys=test_key_store(sessions)
        ),
        api_client(api_settings(dev_env, database_url, task_queue)) as api,
    ):
        view = await open_case(api, specialist, MUNICIPALITY)  # on the compressed policy
        now = datetime.now(UTC)
        expected = case_policy_context("compressed", start_year=now.year, today=now.date())
        assert view["policy_version"] == expected.policy.version

        history = await dev_env.client.get_workflow_handle(view["workflow_id"]).fetch_history()
        scheduled = [
            event.activity_task_scheduled_event_attributes.activity_type.name
            for event in history.events
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        ]
        assert "load_case_policy" not in scheduled
        started = history.events[0].workflow_execution_started_event_attributes
        [case_input] = await dev_env.client.data_converter.decode(
            started.input.payloads, [CaseInput]
        )
        assert isinstance(case_input, CaseInput)
        assert case_input.context == expected  # what the activity would have returned


def test_the_api_gives_only_a_shipped_policy_it_can_read() -> None:
    now = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    given = intake_policy_context("default", now)
    assert given is not None
    assert given.policy.version.endswith("-default")
    assert given.calendar.checked_on == now.date()
    assert given.calendar.published[0].year == 2025  # from the year before the case starts
    # The UTC date, as the workflow's clock reads it (not the oblast's, already 1 January).
    novosibirsk = timezone(timedelta(hours=7))
    assert intake_policy_context("default", now.astimezone(novosibirsk)) == given
    # Not a shipped name (a path, a traversal) or not a policy file: the case loads its own
    # policy, and the activity refuses it with the file's error, as before.
    assert intake_policy_context("../../etc/passwd", now) is None
    assert intake_policy_context("/tmp/policy.toml", now) is None
    assert intake_policy_context("no-such-policy", now) is None
