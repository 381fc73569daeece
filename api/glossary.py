"""The domain's terms in Russian beside English (PRODUCT.md), for the OpenAPI description:
staff read the law's and the ministry's words, the codes are English."""

GLOSSARY = (
    (
        "case stages",
        "этапы: identified (выявление), assessment (оценка семейной ситуации), "
        "routing (маршрутизация), team (команда сопровождения), planning (ИППСУ и план "
        "сопровождения), support (услуги и сопровождение), review (мониторинг и оценка), "
        "prolongation (пролонгирование), closed (снятие с сопровождения)",
    ),
    (
        "family category",
        "категория семьи: tzhs (трудная жизненная ситуация, ТЖС), sop "
        "(социально опасное положение, СОП: постановление КДН и ЗП и его программа), at_risk "
        "(группа риска)",
    ),
    (
        "service agreement",
        "договор о социальном обслуживании (442-ФЗ ст. 17): within one "
        "working day of the individual programme (ИППСУ), deadline T11",
    ),
    (
        "social contract",
        "социальный контракт: job_search (поиск работы), entrepreneurship "
        "(предпринимательская деятельность), subsidiary_farming (личное подсобное хозяйство), "
        "other (иные мероприятия); monthly monitoring (ежемесячный мониторинг, T13) during it "
        "and for 12 months after",
    ),
    (
        "prolongation",
        "пролонгирование: decided by a supervisor (руководитель отделения), a "
        "consilium (консилиум), the working group (рабочая группа) or the head (руководитель "
        "центра), as the policy says",
    ),
    (
        "deadlines",
        "сроки T1-T13 with their escalation ladder (лестница эскалации): reminder "
        "(напоминание), overdue (просрочено), escalation (эскалация)",
    ),
)


def glossary_markdown() -> str:
    return "\n\nTerms (термины):\n\n" + "\n".join(f"- **{en}**: {ru}" for en, ru in GLOSSARY)
