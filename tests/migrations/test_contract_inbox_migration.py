"""Migration 0020: the inbox rows already there get their case's number, and every stored
social contract's open monitoring contacts become inbox rows, as the worker writes them."""

import json
import uuid

from alembic import command
from sqlalchemy import text

from infra.migrate import alembic_config
from models.db import make_sync_engine

MUNICIPALITY = "iskitim_district"


def test_the_stored_contracts_open_contacts_fill_the_inbox(empty_database_url: str) -> None:
    config = alembic_config(empty_database_url)
    command.upgrade(config, "0019")
    case_id, finished_case = uuid.uuid4(), uuid.uuid4()
    deadline = {
        "key": "T13:2",
        "code": "T13",
        "due_at": "2026-03-01T03:00:00+00:00",
        "responsible": "curator-1",
        "overdue": True,
        "escalation_level": 2,
        "escalated_to": "head",
    }
    engine = make_sync_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO case_numbers (case_id, number, municipality, year, seq) "
                    "VALUES (:c, 'ИСК-2026-00017', :m, 2026, 17)"
                ),
                {"c": case_id, "m": MUNICIPALITY},
            )
            connection.execute(
                text(
                    "INSERT INTO case_inbox_items (case_id, key, kind, municipality, stage, "
                    "overdue, escalation_level, responsible) VALUES "
                    "(:c, 'T11', 'deadline', :m, 'support', false, 0, 'curator-1')"
                ),
                {"c": case_id, "m": MUNICIPALITY},
            )
            for contract_case, deadlines in ((case_id, [deadline]), (finished_case, [])):
                connection.execute(
                    text(
                        "INSERT INTO social_contracts (contract_id, case_id, workflow_id, "
                        "municipality, version, phase, view) VALUES "
                        "(:id, :c, :w, :m, 3, 'term', CAST(:view AS jsonb))"
                    ),
                    {
                        "id": uuid.uuid4(),
                        "c": contract_case,
                        "w": f"social-contract-{contract_case}",
                        "m": MUNICIPALITY,
                        "view": json.dumps({"deadlines": deadlines}),
                    },
                )
        command.upgrade(config, "0020")
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT case_id, case_number, key, kind, stage, code, overdue, "
                    "escalation_level, responsible, escalated_to FROM case_inbox_items "
                    "ORDER BY key"
                )
            ).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [
        (
            case_id,
            "ИСК-2026-00017",
            "T11",
            "deadline",
            "support",
            None,
            False,
            0,
            "curator-1",
            None,
        ),
        (
            case_id,
            "ИСК-2026-00017",
            "social_contract:T13:2",
            "contract_contact",
            None,
            "T13",
            True,
            2,
            "curator-1",
            "head",
        ),
    ]
