"""The closed vocabularies of a case's lifecycle (PRODUCT.md §2), shared by workflow and API.

Values appear verbatim in payloads, search attributes, the database and the API: never rename
a value.
"""

from enum import StrEnum


class Stage(StrEnum):
    """Where a family episode is on its path."""

    IDENTIFIED = "identified"  # выявление / запрос семьи
    ASSESSMENT = "assessment"  # оценка семейной ситуации
    ROUTING = "routing"  # маршрутизация
    TEAM = "team"  # определение команды сопровождения
    PLANNING = "planning"  # ИППСУ и план сопровождения
    SUPPORT = "support"  # услуги и сопровождение
    REVIEW = "review"  # мониторинг и оценка
    PROLONGATION = "prolongation"  # пролонгирование
    CLOSED = "closed"  # снятие с сопровождения


OPEN_STAGES = frozenset(Stage) - {Stage.CLOSED}


class StaffRole(StrEnum):
    """The role a staff member acts in (PRODUCT.md §3)."""

    SPECIALIST = "specialist"  # специалист по социальной работе, куратор случая
    SUPERVISOR = "supervisor"  # руководитель отделения «Семейный МФЦ»
    HEAD = "head"  # руководитель центра
    MINISTRY = "ministry"  # Минтруда и соцразвития НСО


class SignalSource(StrEnum):
    """How the first (or a later) signal about a family arrived."""

    SELF_REQUEST = "self_request"  # запрос семьи
    AGENCY_REFERRAL = "agency_referral"  # сигнал от ведомства
    PROACTIVE = "proactive"  # проактивное выявление


class NeedCircumstance(StrEnum):
    """Circumstances of need, 442-ФЗ ст. 15 ч. 1."""

    SELF_CARE_LOSS = "self_care_loss"
    DISABLED_MEMBER_NEEDS_CARE = "disabled_member_needs_care"
    CHILD_ADAPTATION_DIFFICULTY = "child_adaptation_difficulty"
    NO_CARE_FOR_CHILD_OR_DISABLED = "no_care_for_child_or_disabled"
    FAMILY_CONFLICT_OR_VIOLENCE = "family_conflict_or_violence"
    NO_FIXED_ABODE = "no_fixed_abode"
    NO_WORK_NO_MEANS = "no_work_no_means"
    REGIONAL_OTHER = "regional_other"


class AcuteRisk(StrEnum):
    """Acute-risk indicators: any one forces L3 and a child-safety alert."""

    NO_FOOD_OR_MEDICINE = "no_food_or_medicine"
    PARENT_INTOXICATED = "parent_intoxicated"
    CHILD_UNDER_10_ALONE = "child_under_10_alone"
    NO_HOUSING = "no_housing"
    VIOLENCE = "violence"


class NeedDecision(StrEnum):
    """The outcome of the assessment (442-ФЗ ст. 15 ч. 2)."""

    NEED_RECOGNISED = "need_recognised"  # признан нуждающимся
    NO_NEED = "no_need"  # нуждаемость не установлена
    REFUSED = "refused"  # семья отказалась


class ServiceType(StrEnum):
    """Social services, 442-ФЗ ст. 20."""

    EVERYDAY = "everyday"  # социально-бытовые
    MEDICAL = "medical"
    PSYCHOLOGICAL = "psychological"
    PEDAGOGICAL = "pedagogical"
    LABOUR = "labour"  # социально-трудовые
    LEGAL = "legal"
    COMMUNICATION = "communication"  # повышение коммуникативного потенциала
    URGENT = "urgent"


class AccompanimentChannel(StrEnum):
    """Accompaniment: help that is not a social service, 442-ФЗ ст. 22."""

    MEDICAL = "medical"
    PSYCHOLOGICAL = "psychological"
    PEDAGOGICAL = "pedagogical"
    LEGAL = "legal"
    SOCIAL = "social"


class RouteKind(StrEnum):
    """Where the route sends the family (маршрутизация)."""

    OWN_SERVICES = "own_services"
    OTHER_PROVIDERS = "other_providers"  # from the resource map
    COMMISSION = "commission"  # КДН и ЗП
    SOCIAL_CONTRACT = "social_contract"


class ReviewOutcome(StrEnum):
    CONTINUE = "continue"
    CHANGE_LEVEL = "change_level"
    REQUEST_PROLONGATION = "request_prolongation"
    PROPOSE_CLOSURE = "propose_closure"


class NotificationKind(StrEnum):
    REMINDER = "reminder"
    OVERDUE = "overdue"
    ESCALATION = "escalation"
    CHILD_SAFETY_ALERT = "child_safety_alert"
    FOLLOW_UP_DUE = "follow_up_due"
    APPROVAL_REQUESTED = "approval_requested"
    # A resource-map entry not confirmed within its review period (to the head of its territory).
    RESOURCE_REVIEW_DUE = "resource_review_due"


class ProviderKind(StrEnum):
    """What kind of organisation a resource-map entry is (карта ресурсов территории)."""

    STATE_CENTRE = "state_centre"  # государственный центр (КЦСОН, СРЦН)
    MUNICIPAL_CENTRE = "municipal_centre"  # муниципальное учреждение
    NGO = "ngo"  # СО НКО
    EMPLOYMENT_CENTRE = "employment_centre"  # центр занятости населения
    CLINIC = "clinic"  # медицинская организация
    SCHOOL = "school"  # образовательная организация
    COMMISSION_ON_MINORS = "commission_on_minors"  # КДН и ЗП
    OTHER = "other"


class CapacityUnit(StrEnum):
    """How a provider's capacity is counted."""

    PLACES = "places"  # мест
    HOURS_A_MONTH = "hours_a_month"  # часов в месяц


class FamilyCategory(StrEnum):
    """The family's category, recorded at assessment (PRODUCT.md §2 "Family category")."""

    TZHS = "tzhs"  # трудная жизненная ситуация (ТЖС)
    SOP = "sop"  # социально опасное положение (СОП): decided by the КДН и ЗП
    AT_RISK = "at_risk"  # группа риска


class SocialContractOutcome(StrEnum):
    """How a social contract ended (итог социального контракта)."""

    COMPLETED = "completed"  # исполнен
    TERMINATED_EARLY = "terminated_early"  # расторгнут досрочно
