"""The lifecycle's rules as pure functions: who may take which action in which stage
(PRODUCT.md §2-§3), and the deadline book (a deadline's alarms, each fired once, in order)."""

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from models.lifecycle.actions import ACTIONS, Action, allowed_actions, refusal
from models.lifecycle.deadline_book import (
    OpenDeadline,
    fire_due_alarms,
    next_alarm_at,
    plan_deadline,
)
from models.payloads.vocabulary import OPEN_STAGES, NotificationKind, StaffRole, Stage
from models.policy import DeadlineCode, Duration, Role, WorkingCalendar
from models.policy.loader import load_calendar, load_policy

POLICY = load_policy("default")
LOCAL = timezone(POLICY.utc_offset)
STAFF = (StaffRole.SPECIALIST, StaffRole.SUPERVISOR, StaffRole.HEAD)
# PRODUCT.md §3: approvals, prolongations and reassignment are the managers' (a specialist
# may only request them).
MANAGERS_ONLY = {
    Action.APPROVE_PLAN,
    Action.DECIDE_PROLONGATION,
    Action.APPROVE_CLOSURE,
    Action.REASSIGN_CURATOR,
}
# PRODUCT.md §2: at any stage while the case is open.
ANY_OPEN_STAGE = {
    Action.RECEIVE_SIGNAL,
    Action.RECORD_CONTACT,
    Action.REQUEST_CLOSURE,
    Action.APPROVE_CLOSURE,
    Action.GIVE_URGENT_SERVICE,
    Action.RAISE_CHILD_SAFETY_ALERT,
}


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return load_calendar()


def local(day: date, hour: int = 0) -> datetime:
    """`hour`:00 Novosibirsk time on `day`, in UTC."""
    return datetime.combine(day, time(hour), tzinfo=LOCAL).astimezone(UTC)


# --- Refusals -------------------------------------------------------------------------------


def test_a_wrong_stage_is_refused_naming_the_stage_and_what_the_role_may_do() -> None:
    assert refusal(Action.APPROVE_PLAN, Stage.IDENTIFIED, StaffRole.SUPERVISOR) == (
        "approve_plan is not allowed in stage identified (allowed in: planning); "
        "in stage identified a supervisor may: receive_signal, register_intake, "
        "record_contact, request_closure, approve_closure, give_urgent_service, "
        "raise_child_safety_alert"
    )
    assert refusal(Action.RECORD_REVIEW, Stage.PLANNING, StaffRole.SPECIALIST) == (
        "record_review is not allowed in stage planning (allowed in: review, support); "
        "in stage planning a specialist may: receive_signal, record_contact, request_closure, "
        "give_urgent_service, raise_child_safety_alert, record_commission_decision"
    )


def test_a_wrong_role_is_refused_naming_the_roles_allowed() -> None:
    assert refusal(Action.APPROVE_PLAN, Stage.PLANNING, StaffRole.SPECIALIST) == (
        "role specialist may not approve_plan (allowed for: head, supervisor)"
    )
    assert refusal(Action.REGISTER_INTAKE, Stage.IDENTIFIED, StaffRole.MINISTRY) == (
        "role ministry may not register_intake (allowed for: head, specialist, supervisor)"
    )


def test_a_closed_case_takes_only_follow_ups() -> None:
    assert refusal(Action.RECORD_CONTACT, Stage.CLOSED, StaffRole.SPECIALIST) == (
        "record_contact is not allowed in stage closed (allowed in: assessment, identified, "
        "planning, prolongation, review, routing, support, team); "
        "in stage closed a specialist may: record_follow_up"
    )
    assert refusal(Action.RECORD_FOLLOW_UP, Stage.CLOSED, StaffRole.SPECIALIST) is None


@pytest.mark.parametrize("stage", list(Stage))
@pytest.mark.parametrize("action", list(Action))
def test_the_ministry_never_acts(action: Action, stage: Stage) -> None:
    reason = refusal(action, stage, StaffRole.MINISTRY)
    assert reason is not None
    if stage in ACTIONS[action].stages:
        assert reason.startswith(f"role ministry may not {action} ")
    else:
        assert reason.endswith(f"in stage {stage} a ministry may: nothing")


@pytest.mark.parametrize("action", list(Action))
def test_managers_may_do_all_that_staff_may_and_specialists_all_but_approvals(
    action: Action,
) -> None:
    for stage in ACTIONS[action].stages:
        assert refusal(action, stage, StaffRole.SUPERVISOR) is None
        assert refusal(action, stage, StaffRole.HEAD) is None
        allowed_for_specialist = refusal(action, stage, StaffRole.SPECIALIST) is None
        assert allowed_for_specialist == (action not in MANAGERS_ONLY)


def test_actions_open_at_any_stage_are_open_exactly_while_the_case_is() -> None:
    for action in ANY_OPEN_STAGE:
        assert ACTIONS[action].stages == OPEN_STAGES
    assert set(Stage) - OPEN_STAGES == {Stage.CLOSED}


# --- Allowed actions ------------------------------------------------------------------------

# Recorded once the plan (the individual programme) is approved: the service agreement (442-ФЗ
# ст. 17) and the social contract the route named.
# Once the need is recognised: a later resolution of the commission (a СОП family).
_SOP = ["record_commission_decision"]
_AFTER_PLAN = ["record_agreement", "conclude_social_contract", *_SOP]


@pytest.mark.parametrize("stage", list(Stage))
def test_the_ministry_is_allowed_nothing(stage: Stage) -> None:
    assert allowed_actions(stage, StaffRole.MINISTRY) == []


@pytest.mark.parametrize(
    ("stage", "specialist", "managers_also"),
    [
        (Stage.IDENTIFIED, ["register_intake"], []),
        (Stage.ASSESSMENT, ["record_assessment"], []),
        (Stage.ROUTING, ["set_route", *_SOP], []),
        (Stage.TEAM, ["name_team", *_SOP], []),
        (Stage.PLANNING, [*_SOP], ["approve_plan", "reassign_curator"]),
        (
            Stage.SUPPORT,
            ["complete_plan_item", "record_review", *_AFTER_PLAN],
            ["reassign_curator"],
        ),
        (Stage.REVIEW, ["complete_plan_item", "record_review", *_AFTER_PLAN], ["reassign_curator"]),
        (
            Stage.PROLONGATION,
            ["complete_plan_item", *_AFTER_PLAN],
            ["decide_prolongation", "reassign_curator"],
        ),
    ],
)
def test_allowed_actions_per_stage_and_role(
    stage: Stage, specialist: list[str], managers_also: list[str]
) -> None:
    anytime = {"receive_signal", "record_contact", "request_closure"}
    anytime |= {"give_urgent_service", "raise_child_safety_alert"}
    for_specialist = allowed_actions(stage, StaffRole.SPECIALIST)
    for_supervisor = allowed_actions(stage, StaffRole.SUPERVISOR)
    assert set(for_specialist) == anytime | set(specialist)
    assert set(for_supervisor) == anytime | set(specialist) | set(managers_also) | {
        "approve_closure"
    }
    assert allowed_actions(stage, StaffRole.HEAD) == for_supervisor
    # Without a role: what anyone may do, in the declaration order of the rules.
    assert allowed_actions(stage) == for_supervisor
    assert for_supervisor == [a.value for a in ACTIONS if a.value in set(for_supervisor)]


def test_a_closed_case_allows_only_follow_ups() -> None:
    for role in STAFF:
        assert allowed_actions(Stage.CLOSED, role) == ["record_follow_up"]
    assert allowed_actions(Stage.CLOSED, StaffRole.MINISTRY) == []


# --- The deadline book ----------------------------------------------------------------------


def t2_from(applied: datetime, calendar: WorkingCalendar, *, now: datetime) -> OpenDeadline:
    return plan_deadline(
        key="T2",
        code=DeadlineCode.T2,
        start=applied,
        due=POLICY.deadlines[DeadlineCode.T2].due or Duration.working(5),
        responsible="staff-101",
        responsible_is_role=False,
        curator=None,
        policy=POLICY,
        calendar=calendar,
        now=now,
    )


def test_t2_alarms_across_the_may_holidays_in_time_order(calendar: WorkingCalendar) -> None:
    # Applied on Friday 30 April 2027, 10:00: 4, 5, 6, 7 and 11 May are the five working days
    # (1-3 and 8-10 May are off), so the decision is due by 24:00 of Tuesday 11 May.
    applied = local(date(2027, 4, 30), 10)
    deadline = t2_from(applied, calendar, now=applied)
    assert deadline.due_at == local(date(2027, 5, 12))
    assert [
        (a.step, a.at, a.recipient, a.recipient_is_role, a.kind, a.rung_level, a.marks_overdue)
        for a in deadline.alarms
    ] == [
        # The morning of the last day (1WD before).
        ("reminder", local(date(2027, 5, 11)), "staff-101", False, "reminder", 0, False),
        ("rung-1", local(date(2027, 5, 12)), "supervisor", True, "overdue", 1, True),
        # One working day later: the end of Wednesday 12 May.
        ("rung-2", local(date(2027, 5, 13)), "head", True, "escalation", 2, False),
        # Two: the end of Thursday 13 May.
        ("rung-3", local(date(2027, 5, 14)), "ministry", True, "escalation", 3, False),
    ]
    assert (deadline.fired, deadline.overdue, deadline.escalation_level) == (0, False, 0)


def test_t8_three_years_after_a_plan_approved_in_late_2027(calendar: WorkingCalendar) -> None:
    # Approved on Monday 1 November 2027, 10:00: the ИППСУ review (P3Y) is due on Friday
    # 1 November 2030, a month's reminder before; the second rung 1WD after the due skips the
    # weekend and Unity Day (Monday 4 November 2030): the end of Tuesday 5 November.
    approved = local(date(2027, 11, 1), 10)
    deadline = plan_deadline(
        key="T8",
        code=DeadlineCode.T8,
        start=approved,
        due=POLICY.deadlines[DeadlineCode.T8].due or Duration.parse("P3Y"),
        responsible="supervisor",
        responsible_is_role=True,
        curator="staff-101",
        policy=POLICY,
        calendar=calendar,
        now=approved,
    )
    assert deadline.due_at == local(date(2030, 11, 1), 10)
    assert [(a.step, a.at) for a in deadline.alarms] == [
        ("reminder", local(date(2030, 10, 1), 10)),
        ("rung-1", local(date(2030, 11, 1), 10)),
        ("rung-2", local(date(2030, 11, 6))),
    ]


def test_a_reminder_already_past_is_left_out_but_past_rungs_are_kept(
    calendar: WorkingCalendar,
) -> None:
    # T1 with child-safety signs is due today (0WD): a reminder 1WD before would be this
    # morning, already past at 10:00.
    signal = local(date(2027, 3, 3), 10)
    t1 = plan_deadline(
        key="T1",
        code=DeadlineCode.T1,
        start=signal,
        due=Duration.working(0),
        responsible=Role.CURATOR.value,
        responsible_is_role=True,
        curator=None,
        policy=POLICY,
        calendar=calendar,
        now=signal,
    )
    assert t1.due_at == local(date(2027, 3, 4))
    assert [(a.step, a.at) for a in t1.alarms] == [
        ("rung-1", local(date(2027, 3, 4))),
        ("rung-2", local(date(2027, 3, 5))),
    ]
    # An intake registered late, when the T2 deadline has already passed: no reminder, and
    # every rung still fires (at once, from the book's point of view).
    late = t2_from(local(date(2027, 4, 30), 10), calendar, now=local(date(2027, 5, 20), 9))
    assert [a.step for a in late.alarms] == ["rung-1", "rung-2", "rung-3"]
    assert all(a.at < local(date(2027, 5, 20)) for a in late.alarms)


def test_a_step_that_opens_before_its_due_gets_an_open_alarm_not_before_now(
    calendar: WorkingCalendar,
) -> None:
    # T7: the prolongation step opens 10WD before the term ends.
    term_end = local(date(2027, 6, 1), 10)
    planned_at = local(date(2027, 3, 1), 10)
    t7 = plan_deadline(
        key="T7",
        code=DeadlineCode.T7,
        start=planned_at,
        due=term_end,
        responsible=Role.SUPERVISOR.value,
        responsible_is_role=True,
        curator="staff-102",
        policy=POLICY,
        calendar=calendar,
        now=planned_at,
    )
    assert [(a.step, a.kind) for a in t7.alarms] == [
        ("open", NotificationKind.REMINDER),
        ("reminder", NotificationKind.REMINDER),
        ("rung-1", NotificationKind.OVERDUE),
        ("rung-2", NotificationKind.ESCALATION),
    ]
    assert t7.alarms[0].at < t7.alarms[1].at < t7.due_at == t7.alarms[2].at
    # Armed within the last 10 working days: the step is open at once.
    late = plan_deadline(
        key="T7",
        code=DeadlineCode.T7,
        start=term_end - timedelta(days=3),
        due=term_end,
        responsible=Role.SUPERVISOR.value,
        responsible_is_role=True,
        curator="staff-102",
        policy=POLICY,
        calendar=calendar,
        now=term_end - timedelta(days=3),
    )
    assert (late.alarms[0].step, late.alarms[0].at) == ("open", term_end - timedelta(days=3))


def test_rungs_for_the_curator_or_the_responsible_person_name_them(
    calendar: WorkingCalendar,
) -> None:
    approved = local(date(2027, 3, 1), 10)
    item = plan_deadline(
        key="T10:item-1",
        code=DeadlineCode.T10,
        start=approved,
        due=local(date(2027, 4, 1), 18),
        responsible="staff-105",
        responsible_is_role=False,
        curator="staff-102",
        policy=POLICY,
        calendar=calendar,
        now=approved,
    )
    assert [(a.step, a.recipient, a.recipient_is_role) for a in item.alarms] == [
        ("reminder", "staff-105", False),
        ("rung-1", "staff-105", False),  # notify = "responsible"
        ("rung-2", "supervisor", True),
    ]
    follow_up = plan_deadline(
        key="T9:1",
        code=DeadlineCode.T9,
        start=approved,
        due=Duration.parse("P3M"),
        responsible="staff-102",
        responsible_is_role=False,
        curator="staff-102",
        policy=POLICY,
        calendar=calendar,
        now=approved,
    )
    assert [(a.step, a.recipient) for a in follow_up.alarms][1] == ("rung-1", "staff-102")


def test_alarms_fire_in_time_order_across_deadlines_each_exactly_once(
    calendar: WorkingCalendar,
) -> None:
    applied = local(date(2027, 4, 30), 10)
    t2 = t2_from(applied, calendar, now=applied)
    t3 = plan_deadline(
        key="T3",
        code=DeadlineCode.T3,
        start=applied,
        due=Duration.working(10),
        responsible="staff-101",
        responsible_is_role=False,
        curator=None,
        policy=POLICY,
        calendar=calendar,
        now=applied,
    )
    book = {"T3": t3, "T2": t2}
    assert next_alarm_at(book) == t2.alarms[0].at

    # Nothing is due yet.
    assert fire_due_alarms(book, applied) == []

    # The morning of 11 May: only T2's reminder.
    fired = fire_due_alarms(book, local(date(2027, 5, 11), 9))
    assert [(d.key, a.step) for d, a in fired] == [("T2", "reminder")]
    assert (t2.fired, t2.overdue, t2.escalation_level) == (1, False, 0)
    # The same moment again fires nothing more.
    assert fire_due_alarms(book, local(date(2027, 5, 11), 9)) == []

    # Past T2's due: overdue, level 1.
    fired = fire_due_alarms(book, local(date(2027, 5, 12), 1))
    assert [(d.key, a.step) for d, a in fired] == [("T2", "rung-1")]
    assert (t2.overdue, t2.escalation_level) == (True, 1)

    # A long sleep: everything left fires, in time order across both deadlines, once.
    fired = fire_due_alarms(book, local(date(2027, 7, 1)))
    assert [(d.key, a.step) for d, a in fired] == [
        ("T2", "rung-2"),
        ("T2", "rung-3"),
        ("T3", "reminder"),
        ("T3", "rung-1"),
        ("T3", "rung-2"),
        ("T3", "rung-3"),
    ]
    times = [a.at for _, a in fired]
    assert times == sorted(times)
    assert (t2.fired, t2.overdue, t2.escalation_level) == (4, True, 3)
    assert (t3.fired, t3.overdue, t3.escalation_level) == (4, True, 3)
    assert next_alarm_at(book) is None
    assert fire_due_alarms(book, local(date(2027, 12, 1))) == []


def test_alarms_at_the_same_moment_fire_in_ladder_order() -> None:
    # A deadline armed after its whole ladder has passed: all rungs are due at once, and fire
    # in the ladder's order, so the level only ever rises.
    calendar = load_calendar()
    late = t2_from(local(date(2027, 4, 30), 10), calendar, now=local(date(2027, 6, 1), 9))
    fired = fire_due_alarms({"T2": late}, local(date(2027, 6, 1), 9))
    assert [(a.step, a.rung_level) for _, a in fired] == [
        ("rung-1", 1),
        ("rung-2", 2),
        ("rung-3", 3),
    ]
    assert (late.overdue, late.escalation_level) == (True, 3)
