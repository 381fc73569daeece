"""Russian names of the codes a report shows (PRODUCT.md §2)."""

from models.payloads.vocabulary import Stage
from models.policy.codes import AccompanimentLevel, ClosureReason
from models.territory import MUNICIPALITIES

STAGES: dict[str, str] = {
    Stage.IDENTIFIED: "выявление / запрос семьи",
    Stage.ASSESSMENT: "оценка семейной ситуации",
    Stage.ROUTING: "маршрутизация",
    Stage.TEAM: "определение команды",
    Stage.PLANNING: "ИППСУ и план",
    Stage.SUPPORT: "услуги и сопровождение",
    Stage.REVIEW: "мониторинг и оценка",
    Stage.PROLONGATION: "пролонгирование",
    Stage.CLOSED: "снятие с сопровождения",
}

NO_LEVEL = "—"
LEVELS: dict[str, str] = {
    AccompanimentLevel.L0: "L0 консультирование",
    AccompanimentLevel.L1: "L1 поддерживающий",
    AccompanimentLevel.L2: "L2 интенсивный",
    AccompanimentLevel.L3: "L3 кризисный",
    NO_LEVEL: "уровень не определён",
}

CLOSURE_REASONS: dict[str, str] = {
    ClosureReason.GOALS_ACHIEVED: "ТЖС преодолена",
    # A closure event whose reason is missing (none the workflow writes): counted, not lost.
    "unrecorded": "причина не записана",
    ClosureReason.WRITTEN_REFUSAL: "письменный отказ",
    ClosureReason.TERM_EXPIRED: "истёк срок",
    ClosureReason.RELOCATED: "смена места жительства",
    ClosureReason.NO_MINOR_CHILDREN: "нет несовершеннолетних детей",
    ClosureReason.DEATH_OR_MISSING: "смерть или безвестное отсутствие",
    ClosureReason.CHILD_PLACED: "передача органу опеки",
    ClosureReason.TRANSFERRED: "передача другому поставщику",
    ClosureReason.NO_NEED: "нуждаемость не установлена",
    ClosureReason.NO_CONTACT: "семья не вышла на связь",
    ClosureReason.DUPLICATE: "объединён с другим случаем",
    ClosureReason.DEATH: "смерть",
    ClosureReason.MISSING: "безвестное отсутствие",
    ClosureReason.COURT_DECISION: "решение суда",
    ClosureReason.AGREEMENT_BREACH: "нарушение условий договора семьёй",
    ClosureReason.PROVIDER_LIQUIDATED: "ликвидация поставщика",
}

MUNICIPALITY_NAMES: dict[str, str] = {m.code: m.name_ru for m in MUNICIPALITIES}

RUNGS: dict[int, str] = {
    1: "1 — просрочка, руководитель отделения",
    2: "2 — руководитель центра",
    3: "3 — министерство",
}


def label(names: dict[str, str], code: str | None) -> str:
    """The Russian name of `code`, or the code itself when it has none (a newer code)."""
    return names.get(code or "", code or "")
