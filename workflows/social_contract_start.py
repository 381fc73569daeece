"""Starting a case's social contract workflow, from the case workflow that concluded it."""

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from models.lifecycle.contract_monitoring import SocialContractState
    from models.lifecycle.state import CaseState
    from models.payloads.contract_start import SocialContractInput

from workflows.workflow_types import SOCIAL_CONTRACT_WORKFLOW

# A new command in the case's history (a child workflow's start). Only the new
# `conclude_social_contract` update reaches it, which no earlier history holds; the patch
# marks the histories that do, should the start ever change shape.
SOCIAL_CONTRACT_CHILD = "social-contract-child-workflow"


async def start_social_contract(state: CaseState) -> None:
    """The contract's monitoring as a child that outlives the case (ABANDON): closing the case
    must not end the 12 months after the contract."""
    link = state.social_contract
    assert link is not None
    if not workflow.patched(SOCIAL_CONTRACT_CHILD):
        return
    contract = SocialContractState(
        contract_id=link.contract_id,
        case_id=state.case_id,
        workflow_id=link.workflow_id,
        municipality=state.municipality,
        policy=state.policy,
        calendar=state.calendar,
        number=link.number,
        direction=link.direction,
        concluded_on=link.concluded_on,
        starts_at=link.starts_at,
        term_ends_at=link.term_ends_at,
        curator=state.curator,
    )
    await workflow.start_child_workflow(
        SOCIAL_CONTRACT_WORKFLOW,
        SocialContractInput(state=contract),
        id=link.workflow_id,
        parent_close_policy=ParentClosePolicy.ABANDON,
        static_summary=f"Social contract of case {state.case_id} ({state.municipality})",
    )
