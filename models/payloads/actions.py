"""What staff send for each action (the HTTP bodies), and the commands the workflows receive:
the body with who acts (`body.by(actor)`). Pydantic validates shape here; the workflow's
validators check stage, role and preconditions (models/lifecycle/actions.py).

Dates and durations are bounded here, statically, so that none can take the workflow's date
arithmetic out of range (a failed workflow task, retried for ever, leaves the case unable to
answer). What depends on "now" or on the case (a deadline already past, an application date
in the future) is the workflow's to refuse (`models.lifecycle.preconditions`): these models
are also validated inside the workflow sandbox, where the wall clock must not be read.
"""

from datetime import timedelta
from functools import cache
from typing import Annotated, Self, cast
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model, model_validator

from models.payloads.fields import (
    AwareDatetime,
    CaseDate,
    FreeText,
    ItemId,
    MunicipalityCode,
    StaffId,
)
from models.payloads.vocabulary import (
    AccompanimentChannel,
    AcuteRisk,
    FamilyCategory,
    NeedCircumstance,
    NeedDecision,
    ReviewOutcome,
    RouteKind,
    ServiceType,
    SignalSource,
    StaffRole,
)
from models.policy.calendar import FIRST_YEAR, LAST_YEAR
from models.policy.codes import (
    AccompanimentLevel,
    ClosureReason,
    ProlongationAuthority,
    SocialContractDirection,
)
from models.policy.durations import Duration

# The longest extension a decision may ask for: the default policy's 24-month maximum term
# (an extension longer than the whole term is a typo). Months count as 31 days here, so at
# most 744 days in all, and no mix of months and days passes that is much longer.
_LONGEST_SPAN = timedelta(days=31 * 24).total_seconds()
_MOST_WORKING_DAYS = 500  # about two years of working days (some 247 a year)


def _sane_extension(extension: Duration) -> Duration:
    """At most 24 months: an extension, or a social contract's term (a longer one is a typo
    that would take the date arithmetic far out; the policy bounds the term more closely)."""
    if extension.working_days is not None:
        too_long = extension.working_days > _MOST_WORKING_DAYS
    else:  # in plain integers: a timedelta of a huge count would overflow
        days = 31 * extension.calendar_months + 7 * extension.weeks + extension.days
        seconds = 3600 * extension.hours + 60 * extension.minutes + extension.seconds
        too_long = 86400 * days + seconds > _LONGEST_SPAN
    if too_long:
        raise ValueError(
            f"an extension of {extension} is too long: at most 24 months "
            f"(P24M, P744D, {_MOST_WORKING_DAYS}WD)"
        )
    return extension


# A document's number as a registry writes it (договор № 17/2026-С, постановление № 45-п):
# a code, never a person's name, so it stays in clear like other codes.
DocumentNumber = Annotated[
    str,
    Field(
        pattern=r"^[0-9A-Za-zА-Яа-яЁё№/._-]{1,32}$",
        description="Номер документа / the document's number: letters, digits, №, / . _ -.",
    ),
]


# The closure reasons in the OpenAPI description, Russian beside each code (PRODUCT.md §2).
CLOSURE_REASONS_RU = (
    "goals_achieved (ТЖС преодолена), written_refusal (письменный отказ), term_expired (истёк "
    "срок; not for a СОП family while the commission's programme runs), relocated (смена места "
    "жительства), no_minor_children (нет несовершеннолетних детей), death (смерть), missing "
    "(безвестное отсутствие), child_placed (передача органу опеки), transferred (другому "
    "поставщику), no_need (нуждаемость не установлена), no_contact (семья не вышла на связь), "
    "duplicate (объединён с другим случаем), court_decision (решение суда), agreement_breach "
    "(нарушение семьёй условий договора), provider_liquidated (ликвидация поставщика); "
    "death_or_missing is retired (442-ФЗ ст. 18)."
)


class Actor(BaseModel):
    """Who acts: taken from the caller's token, never from the request body."""

    model_config = ConfigDict(frozen=True)

    staff_id: StaffId
    role: StaffRole
    municipalities: tuple[MunicipalityCode, ...] = Field(min_length=1)


class ActionBody(BaseModel):
    """What a staff member sends for an action (the HTTP body)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    comment: FreeText | None = Field(
        None, max_length=2000, description="Основание или комментарий / reason or comment."
    )

    def by(self, actor: Actor) -> "StaffAction":
        """This body as the command a workflow receives: the same fields, and who acts."""
        return command_type(type(self)).model_validate({**self.model_dump(), "actor": actor})


class StaffAction(ActionBody):
    """An action as the workflow receives it: the body and who acts (from the token)."""

    actor: Actor


@cache
def command_type(body: type[ActionBody]) -> type[StaffAction]:
    """The command type of a body: its fields and `actor`, in the same flat JSON shape as the
    body (the committed histories hold it so). Built once per body, the same way for all."""
    name = body.__name__.removesuffix("Body") + "In"
    # Typed as the first base's class; it is a subclass of both.
    command = create_model(name, __base__=(body, StaffAction), __module__=__name__)
    return cast(type[StaffAction], command)


class SignalBody(ActionBody):
    """A signal or request about the family (выявление / запрос семьи)."""

    source: SignalSource = Field(
        description="Источник сигнала / how the signal came: self_request (запрос семьи), "
        "agency_referral (сигнал ведомства), proactive (проактивное выявление)."
    )
    child_safety_indicators: bool = Field(
        False,
        description="Признаки угрозы ребёнку / signs of a threat to a child: the first contact "
        "is due the same day (120-ФЗ ст. 9).",
    )


class IntakeBody(ActionBody):
    """The intake is registered: the application counts T2 and T3 from its date."""

    application_date: CaseDate | None = Field(
        None,
        description="Дата заявления / the application's date (local); T2 and T3 count from it. "
        "Defaults to today; not in the future, nor more than a year before the case opened "
        f"(years {FIRST_YEAR}..{LAST_YEAR}).",
    )


class CommissionProgrammeIn(BaseModel):
    """The commission on minors' resolution (постановление КДН и ЗП) that found the family in a
    socially dangerous position, and its programme (120-ФЗ ст. 5, 7)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    resolution_number: DocumentNumber
    resolution_date: CaseDate = Field(description="Дата постановления / the resolution's date.")
    programme_ends_on: CaseDate = Field(
        description="Срок программы / the last day of the commission's programme (usually a "
        "calendar year after the resolution)."
    )
    review_dates: list[CaseDate] = Field(
        default_factory=list,
        max_length=24,
        description="Даты пересмотра программы / the programme's review dates (T12), within it.",
    )

    @model_validator(mode="after")
    def _dates_in_programme(self) -> Self:
        if self.programme_ends_on < self.resolution_date:  # the same day: a removal
            raise ValueError("programme_ends_on must not come before resolution_date")
        if len(set(self.review_dates)) != len(self.review_dates):
            raise ValueError("review_dates must not repeat a date")
        for day in self.review_dates:
            if not self.resolution_date < day <= self.programme_ends_on:
                raise ValueError(
                    f"review date {day} is outside the programme "
                    f"({self.resolution_date}..{self.programme_ends_on})"
                )
        return self


class CommissionDecisionBody(ActionBody):
    """A later resolution of the commission on minors about a СОП family's programme: prolonged
    (a later end), changed, or ended (the family removed from the register: an end today or
    earlier). The case follows it from now."""

    programme: CommissionProgrammeIn


class AssessmentBody(ActionBody):
    """Оценка семейной ситуации: the need decision and the level."""

    decision: NeedDecision = Field(
        description="Решение о нуждаемости / need_recognised (признан нуждающимся), no_need, "
        "or refused (отказ семьи); 442-ФЗ ст. 15."
    )
    circumstances: list[NeedCircumstance] = Field(
        default_factory=list,
        max_length=8,
        description="Обстоятельства нуждаемости / circumstances of need (442-ФЗ ст. 15 ч. 1).",
    )
    level: AccompanimentLevel | None = Field(
        None,
        description="Уровень сопровождения / L0 consultation, L1 supportive, L2 intensive, "
        "L3 crisis.",
    )
    acute_risks: list[AcuteRisk] = Field(
        default_factory=list,
        max_length=5,
        description="Признаки острого риска / acute-risk indicators: any forces L3 and a "
        "child-safety alert.",
    )
    category: FamilyCategory | None = Field(
        None,
        description="Категория семьи / tzhs (трудная жизненная ситуация), sop (социально "
        "опасное положение, by the commission's resolution), at_risk (группа риска).",
    )
    commission: CommissionProgrammeIn | None = Field(
        None,
        description="Постановление КДН и ЗП и программа / the commission's resolution and "
        "programme: given exactly when the category is sop.",
    )

    @model_validator(mode="after")
    def _category_and_commission(self) -> Self:
        if (self.category is FamilyCategory.SOP) != (self.commission is not None):
            raise ValueError("commission is given exactly when the category is sop")
        if self.category is not None and self.decision is not NeedDecision.NEED_RECOGNISED:
            raise ValueError(f"no category is recorded when the decision is {self.decision}")
        return self

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.decision is NeedDecision.NEED_RECOGNISED:
            if not self.circumstances:
                raise ValueError("a recognised need names at least one circumstance")
            if self.level is None and not self.acute_risks:
                raise ValueError("a recognised need assigns a level")
        elif self.level is not None:
            raise ValueError(f"no level is assigned when the decision is {self.decision}")
        return self


class RouteBody(ActionBody):
    """Маршрутизация."""

    routes: list[RouteKind] = Field(
        min_length=1,
        max_length=4,
        description="Маршрут / own_services, other_providers (карта ресурсов), commission "
        "(КДН и ЗП), social_contract (социальный контракт).",
    )
    providers: list[Annotated[FreeText, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list,
        max_length=20,
        description="Исполнители вне карты ресурсов / providers outside the resource map (text).",
    )
    provider_ids: list[UUID] = Field(
        default_factory=list,
        max_length=20,
        description="Исполнители из карты ресурсов / entries of the resource map (their ids, "
        "e.g. from GET .../route-proposals). A choice other than the proposals needs a reason "
        "in `comment`.",
    )
    social_contract: SocialContractDirection | None = Field(
        None,
        description="Направление социального контракта / the contract's direction: job_search "
        "(поиск работы), entrepreneurship (предпринимательская деятельность), "
        "subsidiary_farming (личное подсобное хозяйство), other (иные мероприятия по "
        "преодолению ТЖС).",
    )

    @model_validator(mode="after")
    def _contract_named(self) -> Self:
        if len(set(self.provider_ids)) != len(self.provider_ids):
            raise ValueError("provider_ids must be unique")
        wants_contract = RouteKind.SOCIAL_CONTRACT in self.routes
        if wants_contract != (self.social_contract is not None):
            raise ValueError("social_contract is given exactly when the route includes it")
        return self


class TeamBody(ActionBody):
    """Команда сопровождения: the curator and the members."""

    curator: StaffId = Field(description="Куратор случая / the curator's staff id.")
    members: list[StaffId] = Field(
        default_factory=list, max_length=20, description="Члены команды / team members."
    )


class PlanItemIn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    item_id: ItemId
    service_type: ServiceType | None = Field(
        None, description="Вид социальной услуги / a social service (442-ФЗ ст. 20)."
    )
    channel: AccompanimentChannel | None = Field(
        None, description="Вид сопровождения / an accompaniment measure (442-ФЗ ст. 22)."
    )
    provider: FreeText = Field(min_length=1, max_length=200, description="Исполнитель / provider.")
    provider_id: UUID | None = Field(
        None,
        description="Запись карты ресурсов / the provider's entry in the resource map; none: a "
        "provider outside the map, named by `provider` alone.",
    )
    responsible: StaffId = Field(description="Ответственный / the responsible staff id.")
    deadline: AwareDatetime = Field(
        description="Срок / the item's deadline (T10), with its time zone: after the plan's "
        "approval and within the case's maximum term (24 months)."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.service_type is None) == (self.channel is None):
            raise ValueError("a plan item is either a service_type or a channel")
        return self


class PlanBody(ActionBody):
    """The individual plan (ИППСУ and accompaniment measures) to approve."""

    items: list[PlanItemIn] = Field(
        min_length=1, max_length=100, description="Мероприятия плана / the plan's items."
    )

    @model_validator(mode="after")
    def _unique_items(self) -> Self:
        ids = [item.item_id for item in self.items]
        if len(ids) != len(set(ids)):
            raise ValueError("plan item ids must be unique")
        return self


class AgreementBody(ActionBody):
    """The service agreement (договор о социальном обслуживании, 442-ФЗ ст. 17), concluded
    after the individual programme is presented."""

    number: DocumentNumber
    concluded_on: CaseDate = Field(
        description="Дата договора / the agreement's date: not in the future, nor before the "
        "plan was approved."
    )


class SocialContractBody(ActionBody):
    """The social contract (социальный контракт) the route named, concluded: its monitoring
    starts (a workflow of its own, which outlives the case)."""

    number: DocumentNumber
    concluded_on: CaseDate = Field(
        description="Дата заключения / the contract's date: not in the future, nor before the "
        "case opened."
    )
    term: Annotated[Duration, AfterValidator(_sane_extension)] = Field(
        description="Срок контракта / the contract's term, e.g. P6M: at least the policy's "
        "shortest (3 months), at most its direction's longest (job_search 9 months, "
        "entrepreneurship and subsidiary_farming 12, other 6)."
    )


class PlanItemDoneBody(ActionBody):
    item_id: ItemId


class ContactBody(ActionBody):
    reached: bool = Field(True, description="False: an attempt that did not reach the family.")


class ReviewBody(ActionBody):
    """Мониторинг и оценка: what the review decided."""

    outcome: ReviewOutcome = Field(
        description="Итог / continue, change_level, request_prolongation (пролонгирование), "
        "propose_closure (снятие)."
    )
    new_level: AccompanimentLevel | None = Field(None, description="Новый уровень / new level.")
    closure_reason: ClosureReason | None = Field(
        None, description=f"Основание снятия / the closure reason proposed: {CLOSURE_REASONS_RU}"
    )

    @model_validator(mode="after")
    def _outcome_details(self) -> Self:
        if (self.outcome is ReviewOutcome.CHANGE_LEVEL) != (self.new_level is not None):
            raise ValueError("new_level is given exactly when the outcome is change_level")
        if (self.outcome is ReviewOutcome.PROPOSE_CLOSURE) != (self.closure_reason is not None):
            raise ValueError("closure_reason is given exactly when the outcome is propose_closure")
        return self


class ProlongationBody(ActionBody):
    """A supervisor's (consilium's) decision on a prolongation request."""

    approve: bool = Field(description="Решение / true to prolong, false to refuse (closes).")
    extend_by: Annotated[Duration, AfterValidator(_sane_extension)] | None = Field(
        None, description="Default: the level's initial term. At most 24 months (P24M, 500WD)."
    )
    consilium: bool = Field(
        False, description="Decided by a consilium: required beyond the 12-month total."
    )
    decided_by: ProlongationAuthority | None = Field(
        None,
        description="Кто принял решение / supervisor, consilium (консилиум), working_group "
        "(рабочая группа), head; which may decide is policy data. Default: consilium when "
        "`consilium` is true, else supervisor.",
    )


class ClosureRequestBody(ActionBody):
    reason: ClosureReason = Field(
        description=f"Основание снятия с сопровождения / why: {CLOSURE_REASONS_RU}"
    )


class ClosureApprovalBody(ActionBody):
    approve: bool


class UrgentServiceBody(ActionBody):
    """Срочная социальная услуга (442-ФЗ ст. 21), at any stage, without a plan."""

    service: Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")] = Field(
        description="e.g. food_set, clothing, temporary_housing, psychological_first_aid"
    )


class ChildSafetyAlertBody(ActionBody):
    """120-ФЗ ст. 9: report a threat to a child at once. Never closes the case."""

    indicators: list[AcuteRisk] = Field(default_factory=list, max_length=5)


class ReassignCuratorBody(ActionBody):
    curator: StaffId


class FollowUpBody(ActionBody):
    number: int = Field(ge=1, le=12, description="Which post-closure follow-up (1, 2, ...).")
    reached: bool = True
