"""The case workflow id's regular expression (read by PostgreSQL where the audit finds a case's
family in SQL) recognises exactly the ids `family_key_of` does."""

import re
import uuid

from workflows.ids import (
    CASE_WORKFLOW_ID_REGEX,
    case_workflow_id,
    family_key_of,
    follow_up_workflow_id,
    social_contract_workflow_id,
)


def test_the_regex_recognises_what_family_key_of_does() -> None:
    family_key = uuid.uuid4().hex
    ids = [
        case_workflow_id(family_key),
        case_workflow_id(family_key[:-1]),
        case_workflow_id(family_key + "0"),
        case_workflow_id(family_key.upper()),
        case_workflow_id(family_key[:-1] + "g"),
        follow_up_workflow_id(uuid.uuid4()),
        social_contract_workflow_id(uuid.uuid4()),
        "x" + case_workflow_id(family_key),
        case_workflow_id(family_key) + "\n",
    ]
    recognised = [i for i in ids if re.fullmatch(CASE_WORKFLOW_ID_REGEX[1:-1], i) is not None]
    assert recognised == [i for i in ids if family_key_of(i) is not None]
    assert recognised == [case_workflow_id(family_key)]
    assert family_key_of(recognised[0]) == family_key
