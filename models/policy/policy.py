"""`Policy`: the deadlines, levels and terms of PRODUCT.md §2 as one validated, frozen value.

Every figure carries its source: a law article where the law fixes it, "default" where it is
the ministry's configurable choice. A case fetches the policy once at start (an activity calls
`loader.load_policy`), records its `version` and keeps it in workflow state, so a later change
of the policy file applies to new cases only and replay never sees it.

Validation runs whenever a policy is built (from TOML or from a payload) and names the key path
of every problem, e.g. "deadlines.T2.ladder" or "levels.L2: missing".
"""

from collections.abc import Container, Iterable
from datetime import timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.policy.codes import (
    OPTIONAL_DEADLINE_CODES,
    AccompanimentLevel,
    ClosureReason,
    DeadlineCode,
    ProlongationAuthority,
    Role,
    SocialContractDirection,
)
from models.policy.durations import Duration, surely_earlier

__all__ = [
    "AccompanimentLevel",
    "ClosureReason",
    "DeadlineCode",
    "DeadlinePolicy",
    "LevelPolicy",
    "Policy",
    "ProlongationApprovers",
    "ProlongationAuthority",
    "Role",
    "Rung",
    "SocialContractDirection",
    "SocialContractMonitoring",
    "SourcedDuration",
]


class _Frozen(BaseModel):
    """Immutable, and strict about unknown keys so a misspelt key in a policy file fails."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# A source, basis or title: a non-blank text.
Text = Annotated[str, Field(min_length=1, pattern=r"\S")]

# Deadlines whose due time lives elsewhere in the policy (or in the plan), with where it lives.
_DUE_ELSEWHERE = {
    DeadlineCode.T5: "levels.<level>.contact_every and first_contact",
    DeadlineCode.T6: "levels.<level>.review_every",
    DeadlineCode.T9: "follow_ups",
    DeadlineCode.T10: "each plan item's own deadline",
    DeadlineCode.T12: "the review dates of the commission's programme",
    DeadlineCode.T13: "social_contract_monitoring",
}


class SourcedDuration(_Frozen):
    """A duration and where the figure comes from."""

    value: Duration
    source: Text


class LevelPolicy(_Frozen):
    """The cadence of one accompaniment level. None means "not applicable to this level"."""

    contact_every: Duration | None = None  # T5; L0 has a single follow-up instead
    first_contact: Duration | None = None  # T5 for the first contact after assignment (L3)
    review_every: Duration | None = None  # T6
    initial_term: Duration  # the term of the first plan (L0: the case closes within it)
    source: Text


class Rung(_Frozen):
    """One step of an escalation ladder, counted from the deadline's due moment."""

    level: int = Field(ge=1)  # the case's escalation level once this rung fires
    after_due: Duration  # "PT0S" = at the due moment
    notify: Role
    marks_overdue: bool = False  # the case shows as overdue from this rung on


class DeadlinePolicy(_Frozen):
    """One deadline (T1..T10): when it is due, who is reminded, how its breach escalates."""

    code: DeadlineCode
    title: Text
    title_ru: Text
    counts_from: Text  # the event the due time is counted from, in words
    due: Duration | None = None  # None: the figure lives elsewhere (_DUE_ELSEWHERE)
    due_child_safety: Duration | None = None  # replaces `due` when child-safety indicators
    due_l3: Duration | None = None  # replaces `due` for a crisis (L3) case
    opens_before: Duration | None = None  # the step opens this long before the due (T7)
    basis: Text  # the source of the due figures
    reminder_before: Duration | None = None  # a reminder to the responsible person
    escalation_basis: Text  # the source of the reminder lead and the ladder
    ladder: tuple[Rung, ...]

    @field_validator("ladder")
    @classmethod
    def _ladder_well_formed(cls, ladder: tuple[Rung, ...]) -> tuple[Rung, ...]:
        levels = [rung.level for rung in ladder]
        if not levels or levels[0] != 1 or any(a >= b for a, b in pairwise(levels)):
            raise ValueError(f"rung levels must start at 1 and strictly increase, got {levels}")
        marking = [rung.level for rung in ladder if rung.marks_overdue]
        if len(marking) != 1:
            raise ValueError(f"exactly one rung must mark overdue, got rungs {marking}")
        for earlier, later in pairwise(ladder):
            if surely_earlier(later.after_due, earlier.after_due):
                raise ValueError(
                    f"rung {later.level} ({later.after_due}) would fire before "
                    f"rung {earlier.level} ({earlier.after_due})"
                )
        return ladder

    def due_for(
        self, *, level: AccompanimentLevel | None = None, child_safety: bool = False
    ) -> Duration | None:
        """The due duration for a case: the child-safety or L3 variant where one is set."""
        if child_safety and self.due_child_safety is not None:
            return self.due_child_safety
        if level is AccompanimentLevel.L3 and self.due_l3 is not None:
            return self.due_l3
        return self.due

    @property
    def overdue_rung(self) -> Rung:
        """The rung from which the case shows as overdue (validation guarantees one)."""
        return next(rung for rung in self.ladder if rung.marks_overdue)


class SocialContractMonitoring(_Frozen):
    """Monitoring of a social contract: every `every` during it, and for `after_end` after."""

    every: Duration
    after_end: Duration
    source: Text


class ProlongationApprovers(_Frozen):
    """Who may decide a prolongation: any one of the authorities listed for the case."""

    within_total: tuple[ProlongationAuthority, ...] = Field(min_length=1)  # up to the total
    beyond_total: tuple[ProlongationAuthority, ...] = Field(min_length=1)  # past it
    # A family in a socially dangerous position (СОП) follows the commission's programme.
    sop_family: tuple[ProlongationAuthority, ...] = Field(min_length=1)
    source: Text


class Policy(_Frozen):
    """Everything a case needs to know about deadlines, levels and terms, with sources."""

    version: Text  # recorded by each case at start and kept to its end
    utc_offset_hours: int = Field(ge=-12, le=14)  # local time of the centres (Novosibirsk: 7)
    levels: dict[AccompanimentLevel, LevelPolicy]
    deadlines: dict[DeadlineCode, DeadlinePolicy]
    total_term_without_consilium: SourcedDuration
    max_total_term: SourcedDuration
    follow_ups: tuple[SourcedDuration, ...]  # T9, counted from closure
    closures_needing_approval: tuple[ClosureReason, ...]
    social_contract_terms: dict[SocialContractDirection, SourcedDuration]
    social_contract_monitoring: SocialContractMonitoring
    # Added later, so None in the policy an older case keeps: such a case checks prolongations
    # by the `consilium` flag alone, and takes no social contract.
    social_contract_min_term: SourcedDuration | None = None
    prolongation_approvers: ProlongationApprovers | None = None

    @property
    def utc_offset(self) -> timedelta:
        """The local time's offset from UTC, as `deadlines.shift` takes it."""
        return timedelta(hours=self.utc_offset_hours)

    def needs_approval(self, reason: ClosureReason) -> bool:
        """True when a supervisor must approve a closure for `reason`."""
        return reason in self.closures_needing_approval

    @model_validator(mode="after")
    def _complete_and_consistent(self) -> "Policy":
        problems = [
            *_missing("levels", self.levels, AccompanimentLevel),
            *_missing(
                "deadlines",
                self.deadlines,
                [code for code in DeadlineCode if code not in OPTIONAL_DEADLINE_CODES],
            ),
            *_missing("social_contract_terms", self.social_contract_terms, SocialContractDirection),
            *_deadline_problems(self.deadlines),
            *_order_problems(self),
        ]
        if len(set(self.closures_needing_approval)) != len(self.closures_needing_approval):
            problems.append("closures_needing_approval: a reason is listed twice")
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _missing(path: str, table: Container[Any], codes: Iterable[StrEnum]) -> list[str]:
    return [f"{path}.{code}: missing" for code in codes if code not in table]


def _deadline_problems(deadlines: dict[DeadlineCode, DeadlinePolicy]) -> list[str]:
    problems = []
    for key, deadline in deadlines.items():
        path = f"deadlines.{key}"
        if deadline.code != key:
            problems.append(f"{path}.code: is {deadline.code}, must match its key {key}")
        if key in _DUE_ELSEWHERE and deadline.due is not None:
            problems.append(f"{path}.due: must be absent, it comes from {_DUE_ELSEWHERE[key]}")
        if key not in _DUE_ELSEWHERE and deadline.due is None:
            problems.append(f"{path}.due: missing")
    t7 = deadlines.get(DeadlineCode.T7)
    if t7 is not None and t7.opens_before is None:
        problems.append("deadlines.T7.opens_before: missing (when the prolongation step opens)")
    return problems


def _order_problems(policy: Policy) -> list[str]:
    problems = []
    if surely_earlier(policy.max_total_term.value, policy.total_term_without_consilium.value):
        problems.append("max_total_term: shorter than total_term_without_consilium")
    follow_ups = [item.value for item in policy.follow_ups]
    for i, (earlier, later) in enumerate(pairwise(follow_ups), start=1):
        if later == earlier or surely_earlier(later, earlier):
            problems.append(f"follow_ups[{i}]: {later} must come after {earlier}")
    return problems
