"""The demo's families and what `kurator demo` does with each: invented people, and a script of
staff actions per family that leaves it in a chosen stage, with some steps left undone on
purpose so that their compressed deadlines pass while you watch.

Every name here is invented and obviously synthetic; registry ids are DEMO-<run>-<number>.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from models.payloads.vocabulary import StaffRole, Stage

SPECIALIST, SUPERVISOR = StaffRole.SPECIALIST, StaffRole.SUPERVISOR

# The pilots get most families; a few neighbours show that territory scoping works.
PILOTS = ("berdsk", "iskitim_district")
OTHERS = ("novosibirsk", "iskitim", "ob", "koltsovo", "cherepanovo_district")
PILOT_SHARE = 0.7

_SURNAMES = (
    ("Тестов", "Тестова"),
    ("Примеров", "Примерова"),
    ("Образцов", "Образцова"),
    ("Макетов", "Макетова"),
    ("Шаблонов", "Шаблонова"),
    ("Вымыслов", "Вымыслова"),
    ("Условнов", "Условнова"),
    ("Демонстров", "Демонстрова"),
)
_MALE = ("Иван", "Пётр", "Сергей", "Алексей", "Дмитрий", "Миша", "Егор")
_FEMALE = ("Анна", "Мария", "Елена", "Ольга", "Наталья", "Вера", "Соня")


@dataclass(frozen=True)
class DemoFamily:
    number: int
    registry_id: str
    municipality: str
    members: list[dict[str, str]]
    scenario: "Scenario"

    @property
    def specialist(self) -> str:
        return f"demo-specialist-{self.municipality}"

    @property
    def supervisor(self) -> str:
        return f"demo-supervisor-{self.municipality}"

    def staff(self, role: StaffRole) -> str:
        return self.specialist if role is SPECIALIST else self.supervisor


Body = Callable[[DemoFamily], dict[str, Any]]


@dataclass(frozen=True)
class Step:
    """One staff action: `action` is the path after /cases/{id}/ ("" opens the case)."""

    action: str
    role: StaffRole
    body: Body


@dataclass(frozen=True)
class Scenario:
    name: str
    leaves_in: Stage  # where the script leaves the case; time may move it on (see `then`)
    then: str  # what the compressed clock does next
    steps: tuple[Step, ...] = field(default=())
    moves_to: Stage | None = None  # the stage the clock moves it to within half a minute
    escalates: bool = False  # overdue and escalated beyond the supervisor within half a minute

    @property
    def shows(self) -> Stage:
        """The stage the case is in once the demo has let the first deadlines pass."""
        return self.moves_to or self.leaves_in


def _fixed(body: dict[str, Any]) -> Body:
    return lambda _family: body


def open_case(source: str = "self_request", *, child_safety: bool = False) -> Step:
    body = {"source": source, "child_safety_indicators": child_safety, "comment": "demo signal"}
    return Step("", SPECIALIST, _fixed(body))


def contact() -> Step:
    return Step("contacts", SPECIALIST, _fixed({"reached": True, "comment": "demo contact"}))


def intake() -> Step:
    return Step("intake", SPECIALIST, _fixed({"comment": "demo intake"}))


def assessment(level: str, *, acute: bool = False) -> Step:
    body: dict[str, Any] = {
        "decision": "need_recognised",
        "circumstances": ["child_adaptation_difficulty", "no_work_no_means"],
        "level": level,
    }
    if acute:
        body["acute_risks"] = ["no_food_or_medicine"]
    return Step("assessment", SPECIALIST, _fixed(body))


def no_need() -> Step:
    body = {"decision": "no_need", "comment": "demo: own resources suffice"}
    return Step("assessment", SPECIALIST, _fixed(body))


def route(*routes: str) -> Step:
    body = {"routes": list(routes or ("own_services",)), "providers": ["КЦСОН (демо)"]}
    return Step("route", SPECIALIST, _fixed(body))


def team() -> Step:
    return Step(
        "team",
        SPECIALIST,
        lambda f: {"curator": f.specialist, "members": [f"demo-psychologist-{f.municipality}"]},
    )


def plan(item_seconds: int = 40) -> Step:
    """Two items; `done_item` completes the first, the second's T10 passes if left alone."""

    def body(family: DemoFamily) -> dict[str, Any]:
        due = (datetime.now(UTC) + timedelta(seconds=item_seconds)).isoformat()
        common = {"provider": "КЦСОН (демо)", "responsible": family.specialist, "deadline": due}
        return {
            "items": [
                {"item_id": "psychologist", "service_type": "psychological", **common},
                {"item_id": "school", "channel": "pedagogical", **common},
            ]
        }

    return Step("plan", SUPERVISOR, body)


def done_item() -> Step:
    return Step("plan-item-done", SPECIALIST, _fixed({"item_id": "psychologist"}))


def review(outcome: str, **details: str) -> Step:
    return Step("reviews", SPECIALIST, _fixed({"outcome": outcome, **details}))


def prolong() -> Step:
    body = {"approve": True, "consilium": True, "comment": "demo consilium"}
    return Step("prolongation", SUPERVISOR, _fixed(body))


def request_closure(reason: str, role: StaffRole = SPECIALIST) -> Step:
    return Step("closure-request", role, _fixed({"reason": reason}))


def approve_closure() -> Step:
    return Step("closure-approval", SUPERVISOR, _fixed({"approve": True}))


def urgent(service: str) -> Step:
    return Step("urgent-services", SPECIALIST, _fixed({"service": service}))


def _local_today() -> str:
    return (datetime.now(UTC) + timedelta(hours=7)).date().isoformat()  # Novosibirsk


def social_contract_route() -> Step:
    body = {"routes": ["own_services", "social_contract"], "social_contract": "job_search"}
    return Step("route", SPECIALIST, _fixed(body))


def agreement() -> Step:
    """The service agreement (442-ФЗ ст. 17), dated today."""
    return Step(
        "agreement",
        SPECIALIST,
        lambda f: {"number": f"Д-{f.number}", "concluded_on": _local_today()},
    )


def social_contract() -> Step:
    """A job-search contract of three (compressed) months: its monthly contacts start."""
    return Step(
        "social-contract",
        SPECIALIST,
        lambda f: {"number": f"СК-{f.number}", "concluded_on": _local_today(), "term": "PT180S"},
    )


def _to_support(level: str) -> tuple[Step, ...]:
    return (contact(), intake(), assessment(level), contact(), route(), team(), plan())


# Ordered so that any ten families cover every stage; more families repeat the list.
SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "closed: goals achieved",
        Stage.CLOSED,
        "follow-ups (T9) due in 180 s and 360 s",
        (
            open_case(),
            *_to_support("L1"),
            done_item(),
            review("propose_closure", closure_reason="goals_achieved"),
            approve_closure(),
        ),
    ),
    Scenario(
        "no first contact",
        Stage.IDENTIFIED,
        "T1 overdue in 10 s, to the head in 20 s",
        (open_case("agency_referral"),),
        escalates=True,
    ),
    Scenario(
        "no need decision",
        Stage.ASSESSMENT,
        "T2 overdue in 50 s, to the ministry in 70 s",
        (open_case(), contact(), intake()),
    ),
    Scenario(
        "no route",
        Stage.ROUTING,
        "T4 overdue in 30 s, T3 in 100 s",
        (open_case("proactive"), contact(), intake(), assessment("L2"), contact()),
    ),
    Scenario(
        "no team",
        Stage.TEAM,
        "T4 overdue in 30 s, to the head in 40 s",
        (open_case(), contact(), intake(), assessment("L1"), route("own_services", "commission")),
    ),
    Scenario(
        "plan not approved",
        Stage.PLANNING,
        "T3 (ИППСУ) overdue in 100 s",
        (open_case(), contact(), intake(), assessment("L2"), contact(), route(), team()),
    ),
    Scenario(
        "plan item left open",
        Stage.SUPPORT,
        "T10 overdue in 40 s, T5 (contact) in 60 s",
        (open_case(), *_to_support("L1"), done_item(), urgent("food_set")),
    ),
    Scenario(
        "crisis case (L3)",
        Stage.SUPPORT,
        "enters review by itself in about 20 s",
        (open_case("agency_referral", child_safety=True), *_to_support("L3"), done_item()),
        moves_to=Stage.REVIEW,
    ),
    Scenario(
        "prolongation asked",
        Stage.PROLONGATION,
        "no decision: T7 overdue at term end",
        (open_case(), *_to_support("L1"), done_item(), review("request_prolongation")),
    ),
    Scenario(
        "closed: no need",
        Stage.CLOSED,
        "no need; supervisor approved closure",
        (open_case(), contact(), intake(), no_need(), approve_closure()),
    ),
    Scenario(
        "family reached",
        Stage.IDENTIFIED,
        "on time: first contact made",
        (open_case("self_request"), contact(), urgent("psychological_first_aid")),
    ),
    Scenario(
        "acute risk",
        Stage.SUPPORT,
        "child-safety alert; review in about 20 s",
        (
            open_case("agency_referral", child_safety=True),
            contact(),
            intake(),
            assessment("L2", acute=True),
            contact(),
            route("own_services", "commission"),
            team(),
            plan(),
        ),
        moves_to=Stage.REVIEW,
    ),
    Scenario(
        "prolongation approved",
        Stage.SUPPORT,
        "consilium approved a new term",
        (open_case(), *_to_support("L2"), review("request_prolongation"), prolong()),
    ),
    Scenario(
        "closure unapproved",
        Stage.ASSESSMENT,
        "refusal awaits a supervisor; T2 runs",
        (open_case(), contact(), intake(), request_closure("written_refusal")),
    ),
    Scenario(
        "closed: duplicate",
        Stage.CLOSED,
        "closed by a supervisor (duplicate)",
        (open_case("proactive"), request_closure("duplicate", SUPERVISOR)),
    ),
    Scenario(
        "reviewed, continues",
        Stage.SUPPORT,
        "reviewed once; next review in 60 s",
        (open_case(), *_to_support("L2"), done_item(), review("continue")),
    ),
    Scenario(
        "social contract",
        Stage.SUPPORT,
        "agreement recorded; job-search contract monitored monthly (60 s)",
        (
            open_case(),
            contact(),
            intake(),
            assessment("L1"),
            social_contract_route(),
            team(),
            plan(),
            agreement(),
            social_contract(),
        ),
    ),
)


def _person(
    rng: random.Random, surname: tuple[str, str], female: bool, born: date
) -> dict[str, str]:
    name = rng.choice(_FEMALE if female else _MALE)
    patronymic = "Синтетическая" if female else "Синтетический"
    return {
        "full_name": f"{surname[int(female)]} {name} {patronymic}",
        "birth_date": born.isoformat(),
    }


def _birth_date(rng: random.Random, today: date, min_years: int, max_years: int) -> date:
    return today - timedelta(days=rng.randint(min_years * 365, max_years * 365))


def make_families(count: int, *, run_tag: str, seed: int | None) -> list[DemoFamily]:
    """`count` invented families; the same seed gives the same names, places and scripts."""
    rng = random.Random(seed)
    today = date.today()
    families = []
    for number in range(1, count + 1):
        surname = rng.choice(_SURNAMES)
        members = [
            {"role": "parent", **_person(rng, surname, True, _birth_date(rng, today, 25, 45))}
        ]
        if rng.random() < 0.6:
            born = _birth_date(rng, today, 25, 50)
            members.append({"role": "parent", **_person(rng, surname, False, born)})
        for _ in range(rng.randint(1, 3)):
            born = _birth_date(rng, today, 1, 16)
            members.append({"role": "child", **_person(rng, surname, rng.random() < 0.5, born)})
        municipality = rng.choice(PILOTS if rng.random() < PILOT_SHARE else OTHERS)
        families.append(
            DemoFamily(
                number=number,
                registry_id=f"DEMO-{run_tag}-{number:04d}",
                municipality=municipality,
                members=members,
                scenario=SCENARIOS[(number - 1) % len(SCENARIOS)],
            )
        )
    return families
