"""What each staff action does to a case: pure functions over `CaseState`.

Each records its events on the step log; the workflow checks stage, role and the action's
precondition before calling (the catalogue, `models.lifecycle.actions`), and persists the step
after.
"""

from datetime import UTC, datetime, time, timedelta

from models.lifecycle.agreement import arm_agreement
from models.lifecycle.commission import commission_review_done, record_category
from models.lifecycle.planning import (
    arm,
    arm_contact_cadence,
    arm_plan_review,
    arm_term_end,
    done,
)
from models.lifecycle.state import CaseState
from models.lifecycle.steps import StepLog
from models.payloads import actions as inputs
from models.payloads.case_view import PlanItemView
from models.payloads.vocabulary import (
    NeedDecision,
    NotificationKind,
    ReviewOutcome,
    StaffRole,
    Stage,
)
from models.policy import (
    AccompanimentLevel,
    ClosureReason,
    DeadlineCode,
    Duration,
    ProlongationAuthority,
    Role,
    shift,
)

_MANAGERS = {StaffRole.SUPERVISOR, StaffRole.HEAD}


def receive_signal(state: CaseState, signal: inputs.SignalBody, log: StepLog) -> None:
    first = state.signals == 0
    state.signals += 1
    if signal.child_safety_indicators:
        state.child_safety = True
    action = "signal_received" if first else "signal_joined"
    log.event(
        action,
        stage_before=None if first else state.stage,
        reason=signal.comment,
        data={"source": signal.source, "child_safety": signal.child_safety_indicators},
    )
    t1 = state.policy.deadlines[DeadlineCode.T1]
    # A later signal with child-safety signs brings an open T1 forward to the same day, unless
    # T1 is already escalating (re-planning would fire its rungs a second time).
    t1_untouched = "T1" in state.deadlines and state.deadlines["T1"].fired == 0
    if first or (t1_untouched and signal.child_safety_indicators):
        due = t1.due_for(child_safety=state.child_safety)
        arm(
            state,
            "T1",
            DeadlineCode.T1,
            start=log.now,
            due=due,
            now=log.now,
            responsible=Role.CURATOR,
        )


def register_intake(state: CaseState, intake: inputs.IntakeBody, log: StepLog) -> None:
    before = state.stage
    local_day = intake.application_date
    if local_day is None:
        state.application_at = counts_from = log.now
    else:  # the application is dated: the start of that local day
        offset = state.policy.utc_offset
        state.application_at = datetime.combine(local_day, time(), tzinfo=UTC) - offset
        # T2 and T3 count the working days after the application's day (ГК ст. 191), as for an
        # application registered during that day: from its end, 24:00 local. (`shift` reads
        # 00:00 as the end of the day before, which would count the application's day itself.)
        counts_from = state.application_at + timedelta(days=1)
    state.stage = Stage.ASSESSMENT
    log.event(
        "intake_registered",
        stage_before=before,
        reason=intake.comment,
        data={"application_at": state.application_at.isoformat()},
    )
    for code in (DeadlineCode.T2, DeadlineCode.T3):
        arm(
            state,
            code.value,
            code,
            start=counts_from,
            due=state.policy.deadlines[code].due,
            now=log.now,
            responsible=log.actor_id,
        )
    state.programme_due_at = state.deadlines["T3"].due_at


def record_assessment(state: CaseState, assessment: inputs.AssessmentBody, log: StepLog) -> None:
    before = state.stage
    done(state, "T2")
    data: dict[str, object] = {
        "decision": assessment.decision,
        "circumstances": [c.value for c in assessment.circumstances],
        "acute_risks": [r.value for r in assessment.acute_risks],
    }
    if assessment.decision is not NeedDecision.NEED_RECOGNISED:
        # No need, no programme: T3 stops with the decision, not with the closure's approval.
        done(state, "T3")
        log.event("assessment_recorded", stage_before=before, reason=assessment.comment, data=data)
        reason = (
            ClosureReason.NO_NEED
            if assessment.decision is NeedDecision.NO_NEED
            else ClosureReason.WRITTEN_REFUSAL
        )
        request_closure(state, inputs.ClosureRequestBody(reason=reason), log)
        return
    # Acute risk overrides the assessor's level: a crisis case, and an alert at once.
    state.level = AccompanimentLevel.L3 if assessment.acute_risks else assessment.level
    state.stage = Stage.ROUTING
    data["level"] = state.level
    data.update(record_category(state, assessment, log.now))
    seq = log.event(
        "assessment_recorded", stage_before=before, reason=assessment.comment, data=data
    )
    if assessment.acute_risks:
        state.child_safety = True
        _alert(state, log, seq, [r.value for r in assessment.acute_risks])
    if "T3" not in state.deadlines and state.programme_due_at is not None:
        # A re-assessment after a refused closure: the programme is due as it was from the start.
        arm(
            state,
            "T3",
            DeadlineCode.T3,
            start=log.now,
            due=state.programme_due_at,
            now=log.now,
            responsible=log.actor_id,
        )
    t4 = state.policy.deadlines[DeadlineCode.T4]
    arm(
        state,
        "T4",
        DeadlineCode.T4,
        start=log.now,
        due=t4.due_for(level=state.level),
        now=log.now,
        responsible=Role.SUPERVISOR,
    )
    # L3's first contact is due the same day as the assessment, so it counts from now, not
    # from a contact days ago (that would make it overdue at once); the cadence of the other
    # levels runs on from the last contact.
    first = state.last_contact_at is None or state.level is AccompanimentLevel.L3
    arm_contact_cadence(
        state,
        start=log.now if first else (state.last_contact_at or log.now),
        now=log.now,
        first=first,
    )


def set_route(state: CaseState, route: inputs.RouteBody, log: StepLog) -> None:
    before = state.stage
    state.route = {
        "routes": [r.value for r in route.routes],
        "providers": list(route.providers),
        "social_contract": route.social_contract,
        # Only when named, so a route without map entries keeps its earlier shape.
        **({"provider_ids": [str(p) for p in route.provider_ids]} if route.provider_ids else {}),
    }
    state.stage = Stage.TEAM
    log.event("route_set", stage_before=before, reason=route.comment, data=dict(state.route))


def name_team(state: CaseState, team: inputs.TeamBody, log: StepLog) -> None:
    before = state.stage
    state.curator = team.curator
    state.team = [team.curator, *[m for m in team.members if m != team.curator]]
    state.stage = Stage.PLANNING
    done(state, "T4")
    log.event(
        "team_named",
        stage_before=before,
        reason=team.comment,
        data={"curator": team.curator, "members": list(team.members)},
    )
    _readdress_to_curator(state, log.now)


def approve_plan(state: CaseState, plan: inputs.PlanBody, log: StepLog) -> None:
    before = state.stage
    assert state.level is not None
    now = log.now
    state.plan_items = {
        item.item_id: PlanItemView(
            item_id=item.item_id,
            service_type=item.service_type,
            channel=item.channel,
            provider=item.provider,
            provider_id=item.provider_id,
            responsible=item.responsible,
            deadline=item.deadline,
        )
        for item in plan.items
    }
    policy, offset = state.policy, state.policy.utc_offset
    state.stage = Stage.SUPPORT
    state.support_started_at = now
    state.plan_approved_at = now
    state.term_ends_at = shift(now, policy.levels[state.level].initial_term, state.calendar, offset)
    state.cap_at = shift(now, policy.max_total_term.value, state.calendar, offset)
    state.term_ends_at = min(state.term_ends_at, state.cap_at)
    done(state, "T3")
    log.event(
        "plan_approved",
        stage_before=before,
        reason=plan.comment,
        data={
            "items": [item.model_dump(mode="json") for item in plan.items],
            "term_ends_at": state.term_ends_at.isoformat(),
        },
    )
    arm_plan_review(state, start=now, now=now)
    arm_term_end(state, now=now)
    arm(
        state,
        "T8",
        DeadlineCode.T8,
        start=now,
        due=policy.deadlines[DeadlineCode.T8].due,
        now=now,
        responsible=Role.SUPERVISOR,
    )
    arm_agreement(state, now)  # the ИППСУ is presented: the agreement is due (442-ФЗ ст. 17)
    for item in plan.items:
        arm(
            state,
            f"T10:{item.item_id}",
            DeadlineCode.T10,
            start=now,
            due=item.deadline,
            now=now,
            responsible=item.responsible,
        )


def complete_plan_item(state: CaseState, item: inputs.PlanItemDoneBody, log: StepLog) -> None:
    current = state.plan_items[item.item_id]
    state.plan_items[item.item_id] = current.model_copy(update={"done_at": log.now})
    done(state, f"T10:{item.item_id}")
    log.event(
        "plan_item_done",
        stage_before=state.stage,
        reason=item.comment,
        data={"item_id": item.item_id},
    )


def record_contact(state: CaseState, contact: inputs.ContactBody, log: StepLog) -> None:
    log.event(
        "contact_recorded",
        stage_before=state.stage,
        reason=contact.comment,
        data={"reached": contact.reached},
    )
    if not contact.reached:
        return
    state.last_contact_at = log.now
    done(state, "T1")
    if state.level is not None:
        arm_contact_cadence(state, start=log.now, now=log.now, first=False)


def record_review(state: CaseState, review: inputs.ReviewBody, log: StepLog) -> None:
    before = state.stage
    now = log.now
    data: dict[str, object] = {"outcome": review.outcome}
    if review.outcome is ReviewOutcome.CHANGE_LEVEL:
        assert review.new_level is not None
        data["level_before"] = state.level
        state.level = review.new_level
        data["level"] = state.level
    if review.outcome is ReviewOutcome.REQUEST_PROLONGATION:
        state.stage = Stage.PROLONGATION
    elif review.outcome is not ReviewOutcome.PROPOSE_CLOSURE:
        state.stage = Stage.SUPPORT
    commission_review = commission_review_done(state)
    if commission_review is not None:
        data["commission_review"] = commission_review
    seq = log.event("review_recorded", stage_before=before, reason=review.comment, data=data)
    arm_plan_review(state, start=now, now=now)
    if review.outcome is ReviewOutcome.CHANGE_LEVEL:  # the new level's cadence from now on
        # A move to crisis (L3) wants its first contact the same day, counted from now.
        crisis = state.level is AccompanimentLevel.L3
        arm_contact_cadence(
            state, start=now if crisis else (state.last_contact_at or now), now=now, first=crisis
        )
    if review.outcome is ReviewOutcome.REQUEST_PROLONGATION:
        log.notify(
            seq,
            Role.SUPERVISOR.value,
            is_role=True,
            kind=NotificationKind.APPROVAL_REQUESTED,
            message="prolongation requested: a consilium decision is due (T7)",
            code=DeadlineCode.T7,
            due_at=state.term_ends_at,
        )
    if review.outcome is ReviewOutcome.PROPOSE_CLOSURE:
        assert review.closure_reason is not None
        request_closure(state, inputs.ClosureRequestBody(reason=review.closure_reason), log)


def prolongation_refusal(state: CaseState, decision: inputs.ProlongationBody) -> str | None:
    """Why this prolongation cannot be approved as asked, or None."""
    if not decision.approve:
        return None
    new_end = prolonged_term_end(state, decision.extend_by)
    assert state.support_started_at is not None
    policy = state.policy
    without_consilium = shift(
        state.support_started_at,
        policy.total_term_without_consilium.value,
        state.calendar,
        policy.utc_offset,
    )
    beyond = new_end > without_consilium
    approvers = policy.prolongation_approvers
    if approvers is not None:
        refused = _approver_refusal(state, decision, beyond)
        if refused is not None:
            return refused
    elif beyond and not decision.consilium:
        return (
            f"a term beyond {policy.total_term_without_consilium.value} in total needs a "
            "consilium decision (consilium: true)"
        )
    if state.term_ends_at is not None and new_end <= state.term_ends_at:
        return f"the term already runs to the {policy.max_total_term.value} maximum"
    return None


def _approver_refusal(
    state: CaseState, decision: inputs.ProlongationBody, beyond: bool
) -> str | None:
    """Who may decide this prolongation is policy data (`prolongation_approvers`)."""
    approvers = state.policy.prolongation_approvers
    assert approvers is not None
    decided_by = decision.decided_by or (
        ProlongationAuthority.CONSILIUM if decision.consilium else ProlongationAuthority.SUPERVISOR
    )
    if state.commission is not None:
        allowed, which = approvers.sop_family, "a family in a socially dangerous position (СОП)"
    elif beyond:
        total = state.policy.total_term_without_consilium.value
        allowed, which = approvers.beyond_total, f"a term beyond {total} in total"
    else:
        allowed, which = approvers.within_total, "a prolongation within the total term"
    if decided_by in allowed:
        return None
    names = ", ".join(allowed)
    return (
        f"{which} is decided by: {names} (policy prolongation_approvers); decided_by: {decided_by}"
    )


def prolonged_term_end(state: CaseState, extend_by: Duration | None) -> datetime:
    assert state.level is not None
    assert state.term_ends_at is not None
    assert state.cap_at is not None
    extension = extend_by or state.policy.levels[state.level].initial_term
    proposed = shift(state.term_ends_at, extension, state.calendar, state.policy.utc_offset)
    return min(proposed, state.cap_at)


def decide_prolongation(state: CaseState, decision: inputs.ProlongationBody, log: StepLog) -> None:
    before = state.stage
    if not decision.approve:
        log.event("prolongation_refused", stage_before=before, reason=decision.comment)
        close(state, ClosureReason.TERM_EXPIRED, log)
        return
    state.term_ends_at = prolonged_term_end(state, decision.extend_by)
    state.stage = Stage.SUPPORT
    log.event(
        "prolongation_approved",
        stage_before=before,
        reason=decision.comment,
        data={
            "term_ends_at": state.term_ends_at.isoformat(),
            "consilium": decision.consilium,
            **({"decided_by": decision.decided_by} if decision.decided_by else {}),
        },
    )
    arm_term_end(state, now=log.now)


def request_closure(state: CaseState, request: inputs.ClosureRequestBody, log: StepLog) -> None:
    """Close now, or ask a supervisor first when the policy says this reason needs approval
    (a supervisor's or head's own request is its approval)."""
    needs_approval = state.policy.needs_approval(request.reason)
    if needs_approval and log.actor_role not in _MANAGERS:
        state.closure_requested = request.reason
        seq = log.event(
            "closure_requested",
            stage_before=state.stage,
            reason=request.comment,
            data={"closure_reason": request.reason},
        )
        log.notify(
            seq,
            Role.SUPERVISOR.value,
            is_role=True,
            kind=NotificationKind.APPROVAL_REQUESTED,
            message=f"closure requested ({request.reason}): approval awaited",
        )
        return
    close(state, request.reason, log, comment=request.comment)


def approve_closure(state: CaseState, approval: inputs.ClosureApprovalBody, log: StepLog) -> None:
    reason = state.closure_requested
    assert reason is not None
    if approval.approve:
        close(state, reason, log, comment=approval.comment)
        return
    state.closure_requested = None
    log.event(
        "closure_rejected",
        stage_before=state.stage,
        reason=approval.comment,
        data={"closure_reason": reason},
    )


def close(
    state: CaseState, reason: ClosureReason, log: StepLog, comment: str | None = None
) -> None:
    """Снятие с сопровождения: every open deadline stops; the follow-ups come next."""
    before = state.stage
    state.stage = Stage.CLOSED
    state.closure_reason = reason
    state.closure_requested = None
    state.closed_at = log.now
    stopped = sorted(state.deadlines)
    state.deadlines.clear()
    log.event(
        "case_closed",
        stage_before=before,
        reason=comment,
        data={"closure_reason": reason, "deadlines_stopped": stopped},
    )


def give_urgent_service(state: CaseState, service: inputs.UrgentServiceBody, log: StepLog) -> None:
    log.event(
        "urgent_service_given",
        stage_before=state.stage,
        reason=service.comment,
        data={"service": service.service},
    )


def raise_child_safety_alert(
    state: CaseState, alert: inputs.ChildSafetyAlertBody, log: StepLog
) -> None:
    state.child_safety = True
    seq = log.event(
        "child_safety_alert",
        stage_before=state.stage,
        reason=alert.comment,
        data={"indicators": [i.value for i in alert.indicators]},
    )
    _alert(state, log, seq, [i.value for i in alert.indicators], record=False)


def reassign_curator(state: CaseState, change: inputs.ReassignCuratorBody, log: StepLog) -> None:
    previous = state.curator
    state.curator = change.curator
    state.team = [change.curator, *[m for m in state.team if m not in (previous, change.curator)]]
    log.event(
        "curator_reassigned",
        stage_before=state.stage,
        reason=change.comment,
        data={"curator": change.curator, "previous": previous},
    )
    _readdress_to_curator(state, log.now, previous=previous)


def _alert(
    state: CaseState, log: StepLog, seq: int, indicators: list[str], *, record: bool = True
) -> None:
    """120-ФЗ ст. 9: notify at once, up the ladder; the case stays open."""
    if record:
        seq = log.event(
            "child_safety_alert", stage_before=state.stage, data={"indicators": indicators}
        )
    for role in (Role.SUPERVISOR, Role.HEAD):
        log.notify(
            seq,
            role.value,
            is_role=True,
            kind=NotificationKind.CHILD_SAFETY_ALERT,
            message="child-safety alert: act immediately (120-ФЗ ст. 9)",
        )


def _readdress_to_curator(state: CaseState, now: datetime, previous: str | None = None) -> None:
    """Deadlines owned by the curator's role (or the previous curator) move to the curator."""
    for key, deadline in list(state.deadlines.items()):
        owned = (deadline.responsible_is_role and deadline.responsible == Role.CURATOR) or (
            previous is not None and deadline.responsible == previous
        )
        if owned and state.curator is not None:
            readdressed = deadline.model_copy(
                update={"responsible": state.curator, "responsible_is_role": False}
            )
            for alarm in readdressed.alarms:
                if alarm.recipient == deadline.responsible:
                    alarm.recipient, alarm.recipient_is_role = state.curator, False
            state.deadlines[key] = readdressed


def plan_follow_ups(state: CaseState, log: StepLog) -> None:
    """Arm the post-closure follow-ups (T9), each counted from the closure."""
    assert state.closed_at is not None
    for number, after in enumerate(state.policy.follow_ups, start=1):
        arm(
            state,
            f"T9:{number}",
            DeadlineCode.T9,
            start=state.closed_at,
            due=after.value,
            now=log.now,
        )


def record_follow_up(state: CaseState, follow_up: inputs.FollowUpBody, log: StepLog) -> None:
    done(state, f"T9:{follow_up.number}")
    log.event(
        "follow_up_recorded",
        stage_before=state.stage,
        reason=follow_up.comment,
        data={"number": follow_up.number, "reached": follow_up.reached},
    )
