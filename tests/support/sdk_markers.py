"""What the Temporal SDK writes into a history past the codec: its own bookkeeping in markers,
never case data. The sealing tests tell it apart from a payload left in clear."""

import json

from temporalio.api.common.v1 import Payload

from workflows.calendar_refresh import PATCH_PREFIX as CALENDAR_PATCH_PREFIX
from workflows.case_runtime import CASE_NUMBER_AT_INTAKE, PERSIST_AS_LOCAL_ACTIVITY
from workflows.social_contract_start import SOCIAL_CONTRACT_CHILD

# What the SDK's core records of a local activity in its marker, past the codec: ids, times
# and attempts, never the activity's input or result (`details[result]`, which is sealed).
_LOCAL_ACTIVITY_RECORD = {
    "seq",
    "attempt",
    "activity_id",
    "activity_type",
    "complete_time",
    "backoff",
    "original_schedule_time",
    "activation_index",
}


def sdk_marker_record(path: str, payload: Payload) -> bool:
    """The SDK's own bookkeeping in a marker, which it writes past the codec: a
    `workflow.patched` call (the patch's id) or a local activity's record (above). Only these
    exact shapes, of our patches and our local activities, pass as such."""
    if payload.metadata.get("encoding") != b"json/plain":
        return False
    content = json.loads(payload.data)
    if "details[patch-data]." in path:
        patch = content.get("id", content.get("patch_id"))
        ours = patch in (
            PERSIST_AS_LOCAL_ACTIVITY,
            SOCIAL_CONTRACT_CHILD,
            CASE_NUMBER_AT_INTAKE,
        ) or str(patch).startswith(CALENDAR_PATCH_PREFIX)
        return bool(ours) and set(content) <= {"id", "patch_id", "deprecated"}
    if "marker_recorded_event_attributes.details[data]." in path:
        return set(content) <= _LOCAL_ACTIVITY_RECORD and content.get("activity_type") in {
            "persist_step",
            "persist_contract_step",
            "refresh_calendar",
            "allocate_case_number",
        }
    return False
