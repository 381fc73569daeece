"""Russian names of the codes a proposal's reasons mention."""

from models.payloads.vocabulary import AccompanimentChannel, ServiceType

SERVICE_RU: dict[ServiceType, str] = {
    ServiceType.EVERYDAY: "социально-бытовые",
    ServiceType.MEDICAL: "социально-медицинские",
    ServiceType.PSYCHOLOGICAL: "социально-психологические",
    ServiceType.PEDAGOGICAL: "социально-педагогические",
    ServiceType.LABOUR: "социально-трудовые",
    ServiceType.LEGAL: "социально-правовые",
    ServiceType.COMMUNICATION: "повышение коммуникативного потенциала",
    ServiceType.URGENT: "срочные социальные услуги",
}

CHANNEL_RU: dict[AccompanimentChannel, str] = {
    AccompanimentChannel.MEDICAL: "медицинская помощь",
    AccompanimentChannel.PSYCHOLOGICAL: "психологическая помощь",
    AccompanimentChannel.PEDAGOGICAL: "педагогическая помощь",
    AccompanimentChannel.LEGAL: "юридическая помощь",
    AccompanimentChannel.SOCIAL: "социальная помощь",
}
