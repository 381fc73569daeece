"""The last event of each case's chain, kept beside the history so that an anchor can fold the
heads of all chains without scanning every event. It is a convenience, not evidence:
`kurator audit verify` recomputes every chain and only compares it with what was anchored."""

from uuid import UUID

from sqlmodel import Field, SQLModel

from models.tables.case_event import HASH_LENGTH


class CaseChainHead(SQLModel, table=True):
    __tablename__ = "case_chain_heads"

    case_id: UUID = Field(primary_key=True)
    seq: int
    hash: str = Field(max_length=HASH_LENGTH)
