"""The closed vocabularies of the policy: levels, deadline codes, closure reasons, roles.

They live apart from the policy model so that workflow code, DTOs and the API can name a level
or a deadline without importing the whole policy. Values are the codes of PRODUCT.md §2; they
appear verbatim in policy files, payloads and search attributes, so never rename a value.
"""

from enum import StrEnum


class AccompanimentLevel(StrEnum):
    """How intensively a family is accompanied (уровень сопровождения)."""

    L0 = "L0"  # consultation (консультирование)
    L1 = "L1"  # supportive (поддерживающий)
    L2 = "L2"  # intensive (интенсивный)
    L3 = "L3"  # crisis (кризисный)


class DeadlineCode(StrEnum):
    """The deadlines of PRODUCT.md §2 "Deadlines and escalations"."""

    T1 = "T1"  # first contact with the family
    T2 = "T2"  # decision on need
    T3 = "T3"  # individual programme (ИППСУ)
    T4 = "T4"  # team and curator named
    T5 = "T5"  # contact cadence
    T6 = "T6"  # plan review
    T7 = "T7"  # prolongation decision
    T8 = "T8"  # ИППСУ review
    T9 = "T9"  # post-closure follow-ups
    T10 = "T10"  # plan items
    # Added later: a policy written before them (kept in an older case's state) has none.
    T11 = "T11"  # service agreement (договор о социальном обслуживании)
    T12 = "T12"  # a review date of the commission's programme (СОП, КДН и ЗП)
    T13 = "T13"  # a monitoring contact of a social contract


# Codes a policy may lack: a case whose policy predates them never arms them.
OPTIONAL_DEADLINE_CODES = frozenset({DeadlineCode.T11, DeadlineCode.T12, DeadlineCode.T13})


class ClosureReason(StrEnum):
    """Why an episode is closed (основание для снятия)."""

    GOALS_ACHIEVED = "goals_achieved"  # ТЖС преодолена
    WRITTEN_REFUSAL = "written_refusal"  # письменный отказ
    TERM_EXPIRED = "term_expired"
    RELOCATED = "relocated"  # смена места жительства
    NO_MINOR_CHILDREN = "no_minor_children"  # младшему ребёнку 18 лет
    # Kept readable for the events and histories that recorded it; new closures name one of
    # the two it was split into (`death`, `missing`): `RETIRED_CLOSURE_REASONS`.
    DEATH_OR_MISSING = "death_or_missing"
    CHILD_PLACED = "child_placed"  # передача органу опеки
    TRANSFERRED = "transferred"  # другому поставщику
    NO_NEED = "no_need"  # нуждаемость не установлена
    NO_CONTACT = "no_contact"  # семья не вышла на связь
    DUPLICATE = "duplicate"  # joined another episode
    # The grounds for ending social services as 442-ФЗ ст. 18 names them.
    DEATH = "death"  # смерть получателя
    MISSING = "missing"  # признание безвестно отсутствующим
    COURT_DECISION = "court_decision"  # решение суда
    AGREEMENT_BREACH = "agreement_breach"  # нарушение семьёй условий договора
    PROVIDER_LIQUIDATED = "provider_liquidated"  # ликвидация поставщика


# Values no new closure may name (still valid in stored events, states and replays).
RETIRED_CLOSURE_REASONS = frozenset({ClosureReason.DEATH_OR_MISSING})


class Role(StrEnum):
    """Who a reminder or an escalation is addressed to."""

    RESPONSIBLE = "responsible"  # whoever owns the step (a plan item's responsible person)
    CURATOR = "curator"  # куратор случая
    SUPERVISOR = "supervisor"  # руководитель отделения
    HEAD = "head"  # head of the centre (директор)
    MINISTRY = "ministry"  # Минтруда и соцразвития Новосибирской области


class SocialContractDirection(StrEnum):
    """What a social contract (социальный контракт) is concluded for."""

    JOB_SEARCH = "job_search"  # поиск работы
    ENTREPRENEURSHIP = "entrepreneurship"  # предпринимательская деятельность
    SUBSIDIARY_FARMING = "subsidiary_farming"  # личное подсобное хозяйство
    OTHER = "other"  # иные мероприятия по преодолению ТЖС


class ProlongationAuthority(StrEnum):
    """Who may decide a prolongation (кто принимает решение о пролонгации); which of them a
    case needs is policy data (`Policy.prolongation_approvers`)."""

    SUPERVISOR = "supervisor"  # руководитель отделения
    CONSILIUM = "consilium"  # консилиум специалистов
    WORKING_GROUP = "working_group"  # районная (межведомственная) рабочая группа
    HEAD = "head"  # руководитель центра
