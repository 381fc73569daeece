"""Erasing a family's data by destroying its data key (crypto-shredding), for the API and the
CLI alike.

What it erases: the family's data key, and with it everything sealed under that key: the
family record and the sealed PostgreSQL fields, and every payload of the family's Temporal
workflows (the case workflow's runs and its cases' follow-ups). What it keeps: the family's
row (its id, pseudonym and municipality, so the erasure and the access log still name it), the
case projections and the coded case history in `case_events` (stages, actions, actors, dates),
the access log, and the erasure's own row (who, role, when, why).

When it refuses: while the family has a case that is not closed (a case in progress is the
service being given; close it first), and while any of its workflows still runs (a closing
case, or follow-ups after closure: a running workflow whose key is gone would fail on its next
task; record the remaining follow-ups, `reached: false` when the family cannot be reached).
The checks and the erasure run in one transaction holding the family row's lock, so two
erasures never interleave. An intake racing an erasure is refused either by its own check of
the erasure (409) or, once the key is destroyed, by the codec, which finds no key to seal its
signal with (409 `family_erased`). What remains is a window of milliseconds: an intake whose
check and whose case start both fall between the erasure's Temporal check and its commit.
"""

from dataclasses import dataclass
from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from models.access import AccessedData, Purpose
from models.crud.access_log import Access, log_access
from models.crud.family_data_keys import destroy_family_key
from models.crud.family_erasures import (
    FamilyErasurePublic,
    cases_of_workflow,
    erasure_of,
    lock_family,
    record_erasure,
)
from models.family_records import FamilyAccessAction
from models.payloads.vocabulary import StaffRole, Stage
from workflows.ids import case_workflow_id, follow_up_workflow_id, social_contract_workflow_id

MAX_REASON_LENGTH = 500
MAX_LEGAL_BASIS_LENGTH = 200
WORKFLOW_EXECUTION_STATUS_RUNNING = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
ERASERS = frozenset({StaffRole.HEAD, StaffRole.MINISTRY})


class ErasureRefused(Exception):
    """The erasure cannot happen now; `code` says why for machines, the message for people
    (codes and ids only, never personal data)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class FamilyNotFound(ErasureRefused):
    def __init__(self, family_id: UUID) -> None:
        super().__init__("not_found", f"no family {family_id}")


class AlreadyErased(ErasureRefused):
    def __init__(self, erasure: FamilyErasurePublic) -> None:
        super().__init__(
            "already_erased",
            f"the family's data was already erased at {erasure.erased_at.isoformat()}",
        )
        self.erasure = erasure


@dataclass(frozen=True)
class Eraser:
    staff_id: str
    role: StaffRole
    # The eraser's territory; None for the whole oblast (the ministry, or the CLI's operator).
    municipalities: tuple[str, ...] | None


@dataclass(frozen=True)
class Erased:
    erasure: FamilyErasurePublic
    key_id: UUID
    cases: list[UUID]  # their coded history is kept
    workflows: list[str]  # whose Temporal payloads can no longer be opened


async def erase_family(
    session: AsyncSession,
    temporal: Client,
    *,
    family_id: UUID,
    eraser: Eraser,
    reason: str,
    legal_basis: str | None,
    purpose: Purpose,
    replayed: bool = False,
) -> Erased:
    """Erase the family's data in the caller's transaction (see the module docstring); the
    caller commits, then makes its key store forget the key (`FamilyKeyStore.forget`).

    `replayed`: this is a retry of a request that was already answered (same Idempotency-Key):
    an erasure it made is answered again instead of refused as already done. Raises
    ErasureRefused (FamilyNotFound, AlreadyErased, or a refusal naming what is still open)."""
    if eraser.role not in ERASERS:
        raise ErasureRefused("forbidden", f"role {eraser.role} may not erase a family's data")
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON_LENGTH:
        raise ErasureRefused(
            "invalid_request", f"the reason must be 1 to {MAX_REASON_LENGTH} characters"
        )
    if legal_basis is not None:
        legal_basis = legal_basis.strip() or None
    if legal_basis is not None and len(legal_basis) > MAX_LEGAL_BASIS_LENGTH:
        raise ErasureRefused(
            "invalid_request",
            f"the legal basis must be at most {MAX_LEGAL_BASIS_LENGTH} characters",
        )
    if "\x00" in reason or (legal_basis is not None and "\x00" in legal_basis):
        raise ErasureRefused("invalid_request", "the reason and legal basis may not hold NUL")
    family = await lock_family(session, family_id=family_id)
    if family is None or (
        eraser.municipalities is not None and family.municipality not in eraser.municipalities
    ):
        raise FamilyNotFound(family_id)
    workflow_id = case_workflow_id(family.family_key)
    cases = await cases_of_workflow(session, workflow_id=workflow_id)
    workflows = [workflow_id, *(follow_up_workflow_id(case_id) for case_id, _ in cases)]
    # A social contract's monitoring outlives its case and seals with the family's key too.
    contracts = [social_contract_workflow_id(case_id) for case_id, _ in cases]
    done = await erasure_of(session, family_id=family_id)
    if done is not None:
        # A retry of this very request is answered again; any other finds the work done.
        if not replayed or done.staff_id != eraser.staff_id:
            raise AlreadyErased(done)
        assert done.key_id is not None
        return Erased(done, done.key_id, [case_id for case_id, _ in cases], workflows)
    for case_id, stage in cases:
        if stage is not Stage.CLOSED:
            raise ErasureRefused(
                "case_open",
                f"case {case_id} is open (stage {stage}): close it first; a family's data is "
                "erased only when no case of it is open",
            )
    for running in [*workflows, *contracts]:
        if await _is_running(temporal, running):
            what = "the case is still closing" if running == workflow_id else "follow-ups run"
            if running in contracts:
                raise ErasureRefused(
                    "workflow_running",
                    f"workflow {running} still runs (the social contract's monitoring, which "
                    "outlives the case): wait for its last month to pass",
                )
            raise ErasureRefused(
                "workflow_running",
                f"workflow {running} still runs ({what}): record its remaining follow-ups "
                "(reached: false if the family cannot be reached) or wait for it to end",
            )
    key_id = await destroy_family_key(
        session,
        family_key=family.family_key,
        staff_id=eraser.staff_id,
        role=eraser.role.value,
        reason=reason,
    )
    erasure = await record_erasure(
        session,
        family_id=family_id,
        staff_id=eraser.staff_id,
        role=eraser.role,
        reason=reason,
        legal_basis=legal_basis,
        key_id=key_id,
    )
    await log_access(
        session,
        Access.by(eraser, AccessedData.FAMILY_DATA, purpose, FamilyAccessAction.ERASE),
        family_ids=[family_id],
    )
    return Erased(erasure, key_id, [case_id for case_id, _ in cases], workflows)


async def _is_running(temporal: Client, workflow_id: str) -> bool:
    """Whether the workflow's latest run is running. The raw call: the SDK's describe() would
    also decode the memo and summaries (payloads of the family), to no use here."""
    request = DescribeWorkflowExecutionRequest(
        namespace=temporal.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
    )
    try:
        described = await temporal.workflow_service.describe_workflow_execution(request)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return described.workflow_execution_info.status == WORKFLOW_EXECUTION_STATUS_RUNNING
