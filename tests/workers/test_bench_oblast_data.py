"""The synthetic oblast (`kurator bench generate`): what it writes is what the application
would have stored, and the application's own readers and the audit chain accept it."""

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg.rows import dict_row

from infra.audit.chain import check_chain
from infra.migrate import upgrade_to_head
from infra.sealing.columns import SEALED_TEXT_PREFIX, keys_for, open_free_text, sealed_key_ids
from infra.sealing.family_keys import FamilyKeyStore
from infra.sealing.master_keys import read_key_file
from models.crud.case_events import event_field, list_events
from models.crud.case_projections import get_view
from models.db import make_async_engine, make_session_factory
from models.inbox import inbox_items
from models.payloads.case_view import CaseView
from models.territory import MUNICIPALITY_CODES
from tests.support.sealing import TEST_MASTER_KEY_FILE
from workers.bench.oblast_cases import synthetic_case
from workers.bench.oblast_data import GenerationRefused, OblastSpec, generate_oblast, psycopg_url

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CASES = 200


@pytest.fixture
def oblast_url(empty_database_url: str) -> str:
    upgrade_to_head(empty_database_url)
    return empty_database_url


def _stored(url: str, query: str) -> list[dict[str, Any]]:
    with psycopg.connect(psycopg_url(url), row_factory=dict_row) as connection:
        return connection.execute(query).fetchall()


async def test_generated_oblast_is_stored_as_the_application_stores_cases(oblast_url: str) -> None:
    spec = OblastSpec(cases=CASES, now=NOW, seed=7, jobs=2, chunk_cases=60)
    lines: list[str] = []
    generated = await generate_oblast(oblast_url, TEST_MASTER_KEY_FILE, spec, lines.append)

    assert generated.cases == CASES
    assert any("events/s" in line for line in lines)
    events = _stored(oblast_url, "SELECT * FROM case_events ORDER BY case_id, seq")
    assert len(events) == generated.events
    assert 20 <= generated.events / CASES <= 40  # about 30 a case

    # Counts per municipality: as reported, all real codes, the city of Novosibirsk first.
    projections = _stored(oblast_url, "SELECT * FROM case_projections")
    assert len(projections) == CASES
    per_municipality = Counter(row["municipality"] for row in projections)
    assert per_municipality == generated.by_municipality
    assert set(per_municipality) <= MUNICIPALITY_CODES
    assert per_municipality.most_common(1)[0][0] == "novosibirsk"
    assert per_municipality["novosibirsk"] > CASES / 3

    # Every chain verifies, and its head is the one case_chain_heads holds.
    by_case: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in events:
        by_case[row["case_id"]].append(row)
    heads = {row["case_id"]: row for row in _stored(oblast_url, "SELECT * FROM case_chain_heads")}
    assert set(by_case) == set(heads) == {row["case_id"] for row in projections}
    for case_id, rows in by_case.items():
        head, broken = check_chain(case_id, rows)
        assert broken is None
        assert head is not None
        assert (head.seq, head.hash) == (heads[case_id]["seq"], heads[case_id]["hash"])

    # Every case is numbered, once, as intake numbers it; the counters continue after them.
    numbers = {row["case_id"]: row for row in _stored(oblast_url, "SELECT * FROM case_numbers")}
    assert set(numbers) == {row["case_id"] for row in projections}
    assert len({row["number"] for row in numbers.values()}) == CASES
    counters = _stored(oblast_url, "SELECT * FROM case_number_sequences")
    assert len(counters) == len({(r["municipality"], r["year"]) for r in numbers.values()})
    for counter in counters:
        taken = [
            row["seq"]
            for row in numbers.values()
            if (row["municipality"], row["year"]) == (counter["municipality"], counter["year"])
        ]
        assert counter["last_seq"] == max(taken)

    inbox: dict[UUID, list[tuple[Any, ...]]] = defaultdict(list)
    for item in _stored(oblast_url, "SELECT * FROM case_inbox_items ORDER BY case_id, key"):
        inbox[item["case_id"]].append(
            (item["key"], item["kind"], item["due_at"], item["responsible"], item["escalated_to"])
        )
    inbox = {case_id: sorted(items) for case_id, items in inbox.items()}
    assert inbox  # open cases wait for somebody
    engine = make_async_engine(oblast_url)
    keys = FamilyKeyStore(make_session_factory(engine), read_key_file(TEST_MASTER_KEY_FILE))
    sessions = make_session_factory(engine)
    try:
        async with sessions() as session:
            for projection in projections:
                case_id = projection["case_id"]
                rows = by_case[case_id]
                # The fold of view_changes is the stored projection's view, both opened.
                wanted = set().union(*(sealed_key_ids(row["view_changes"]) for row in rows))
                opening = await keys_for(keys, wanted)
                folded: dict[str, Any] = {}
                for row in rows:
                    field = event_field("view_changes", case_id, row["seq"])
                    folded.update(open_free_text(row["view_changes"], opening, field=field))
                view = await get_view(session, case_id=case_id, keys=keys)
                assert view is not None
                assert folded == view.model_dump(mode="json")
                assert view.case_number == numbers[case_id]["number"]
                assert CaseView.model_validate(folded).model_dump(mode="json") == folded
                assert view.version == rows[-1]["seq"] == projection["version"]
                assert (view.stage.value, view.overdue) == (
                    projection["stage"],
                    projection["overdue"],
                )
                if view.stage.value != "closed":
                    assert view.next_deadline == projection["next_deadline"]
                # Its inbox rows are those the worker derives from the view it stores.
                derived = sorted(
                    (item.key, item.kind, item.due_at, item.responsible, item.escalated_to)
                    for item in inbox_items(view)
                )
                assert inbox.get(case_id, []) == derived
            # The history reader opens the sealed comments and providers.
            sample = [row for row in events if row["reason"] is not None][:50]
            assert sample
            for stored in sample:
                assert stored["reason"].startswith(SEALED_TEXT_PREFIX)
                history = await list_events(session, case_id=stored["case_id"], keys=keys)
                opened = next(event for event in history if event.seq == stored["seq"])
                assert opened.reason is not None
                assert opened.reason.startswith("Синтетическая запись")
            routes = [row for row in events if row["action"] == "route_set"][:20]
            for stored in routes:
                assert all(p.startswith(SEALED_TEXT_PREFIX) for p in stored["data"]["providers"])
                history = await list_events(session, case_id=stored["case_id"], keys=keys)
                opened = next(event for event in history if event.seq == stored["seq"])
                assert all("(синтетический)" in p for p in opened.data["providers"])
    finally:
        await engine.dispose()

    # Deterministic with a seed: the stored clear columns are the simulation's, again.
    case = synthetic_case(7, 0, NOW, 30)
    assert case == synthetic_case(7, 0, NOW, 30)
    assert case != synthetic_case(8, 0, NOW, 30)
    stored_case = by_case[case.case_id]
    expected = [
        (event.id, event.seq, event.action, event.occurred_at)
        for step in case.steps
        for event in step.events
    ]
    assert [(r["id"], r["seq"], r["action"], r["occurred_at"]) for r in stored_case] == expected

    # A second run into the same database is refused, and writes nothing.
    with pytest.raises(GenerationRefused, match="already holds a case history"):
        await generate_oblast(oblast_url, TEST_MASTER_KEY_FILE, spec)
    count = _stored(oblast_url, "SELECT count(*) AS n FROM case_events")[0]["n"]
    assert count == generated.events


def test_no_generated_event_lies_after_now() -> None:
    """Before the working day (07:30 local on a Monday), a case opened in the last hours would
    move into the day's working hours: after `now`, which no stored history can be."""
    before_work = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
    late = [
        (number, event.seq)
        for number in range(3000)
        for step in synthetic_case(3, number, before_work, 30).steps
        for event in step.events
        if max(event.occurred_at, step.recorded_at) > before_work
    ]
    assert late == []
