"""All of a case workflow's state in one serialisable object (carried across continue-as-new)."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from models.lifecycle.deadline_book import OpenDeadline
from models.payloads.case_view import (
    AgreementView,
    CaseView,
    CommissionProgrammeView,
    DeadlineView,
    PlanItemView,
    SocialContractLink,
)
from models.payloads.vocabulary import FamilyCategory, Stage
from models.policy import AccompanimentLevel, ClosureReason, Policy, WorkingCalendar


class CaseState(BaseModel):
    case_id: UUID
    workflow_id: str
    first_run_id: str | None = None  # the run chain of this episode (the id is the family's)
    municipality: str
    case_number: str | None = None  # None: opened before case numbers were given
    policy: Policy
    calendar: WorkingCalendar
    opened_at: datetime
    stage: Stage = Stage.IDENTIFIED
    level: AccompanimentLevel | None = None
    curator: str | None = None
    team: list[str] = Field(default_factory=list)
    plan_items: dict[str, PlanItemView] = Field(default_factory=dict)
    seq: int = 0  # the number of the last event recorded
    signals: int = 0
    child_safety: bool = False
    application_at: datetime | None = None
    programme_due_at: datetime | None = None  # T3 as first planned (kept across its pauses)
    last_contact_at: datetime | None = None
    support_started_at: datetime | None = None
    term_ends_at: datetime | None = None
    cap_at: datetime | None = None  # the 24-month cap: closure is forced here
    closure_requested: ClosureReason | None = None
    closure_reason: ClosureReason | None = None
    closed_at: datetime | None = None
    route: dict[str, Any] = Field(default_factory=dict)
    deadlines: dict[str, OpenDeadline] = Field(default_factory=dict)
    # Later additions: absent from older states, which read as they were.
    family_category: FamilyCategory | None = None
    commission: CommissionProgrammeView | None = None
    agreement: AgreementView | None = None
    social_contract: SocialContractLink | None = None
    # The plan's approval: the agreement is dated on or after its day.
    plan_approved_at: datetime | None = None

    def sop_programme_open(self, now: datetime) -> bool:
        """A СОП family whose commission's programme runs at `now`."""
        return self.commission is not None and now < self.commission.ends_at

    @property
    def overdue(self) -> bool:
        return any(deadline.overdue for deadline in self.deadlines.values())

    @property
    def escalation_level(self) -> int:
        return max((d.escalation_level for d in self.deadlines.values()), default=0)

    @property
    def next_deadline(self) -> datetime | None:
        return min((d.due_at for d in self.deadlines.values()), default=None)

    def view(self) -> CaseView:
        return CaseView(
            case_id=self.case_id,
            workflow_id=self.workflow_id,
            first_run_id=self.first_run_id,
            case_number=self.case_number,
            version=max(self.seq, 1),
            municipality=self.municipality,
            stage=self.stage,
            level=self.level,
            curator=self.curator,
            team=list(self.team),
            plan_items=list(self.plan_items.values()),
            deadlines=[
                DeadlineView(
                    key=d.key,
                    code=d.code,
                    due_at=d.due_at,
                    responsible=d.responsible,
                    overdue=d.overdue,
                    escalation_level=d.escalation_level,
                    escalated_to=d.escalated_to(),
                )
                for d in sorted(self.deadlines.values(), key=lambda d: (d.due_at, d.key))
            ],
            overdue=self.overdue,
            escalation_level=self.escalation_level,
            next_deadline=self.next_deadline,
            closure_requested=self.closure_requested,
            closure_reason=self.closure_reason,
            policy_version=self.policy.version,
            opened_at=self.opened_at,
            term_ends_at=self.term_ends_at,
            closed_at=self.closed_at,
            details={"route": self.route, "child_safety": self.child_safety},
            family_category=self.family_category,
            commission=self.commission,
            agreement=self.agreement,
            social_contract=self.social_contract,
        )

    def details_markdown(self) -> str:
        """The Web UI's current details: stage, what is awaited from whom, the next deadline.
        Codes, roles, staff ids and dates only: never a family's personal data."""
        lines = [f"**Stage:** {self.stage}", f"**Level:** {self.level or '—'}"]
        if self.case_number:
            lines.insert(0, f"**Case:** {self.case_number}")
        if self.deadlines:
            lines.append("**Awaited:**")
            for d in sorted(self.deadlines.values(), key=lambda d: d.due_at):
                flag = " — OVERDUE" if d.overdue else ""
                due = d.due_at.strftime("%Y-%m-%d %H:%M UTC")
                lines.append(f"- {d.key} from {d.responsible}, due {due}{flag}")
        if self.commission is not None:
            lines.append(f"**СОП programme** to {self.commission.programme_ends_on}")
        if self.social_contract is not None:
            contract = self.social_contract
            lines.append(f"**Social contract:** {contract.direction}, `{contract.workflow_id}`")
        if self.closure_requested:
            lines.append(f"**Closure requested:** {self.closure_requested} (awaits a supervisor)")
        if self.closure_reason:
            lines.append(f"**Closed:** {self.closure_reason}")
        return "\n".join(lines)
