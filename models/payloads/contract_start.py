"""What starts (or continues) a social contract's workflow. Here, not beside the workflow: a
model in a workflow's module is built again in every sandbox that imports the module."""

from pydantic import BaseModel

from models.lifecycle.contract_monitoring import SocialContractState


class SocialContractInput(BaseModel):
    state: SocialContractState
    started: bool = False  # True once its start was recorded (after continue-as-new)
