"""SQLModel tables. Importing this package registers every table on `SQLModel.metadata`
(alembic's autogenerate and the migration tests rely on that). Never import it from workflows."""

from models.tables.case_chain_head import CaseChainHead
from models.tables.case_event import CaseEvent
from models.tables.case_inbox_item import CaseInboxItem
from models.tables.case_indicators import CaseEventMark, CaseMilestones
from models.tables.case_number import CaseNumberRow, CaseNumberSequence
from models.tables.case_projection import CaseProjection
from models.tables.delivery import Delivery
from models.tables.family import Family
from models.tables.family_access import FamilyAccess
from models.tables.family_data_key import FamilyDataKey
from models.tables.family_erasure import FamilyErasure
from models.tables.idempotency_key import IdempotencyKey
from models.tables.municipality import MunicipalityRow
from models.tables.notification import Notification
from models.tables.report_indexes import REPORT_INDEXES
from models.tables.resource_change import ResourceChange
from models.tables.resource_provider import ResourceProvider
from models.tables.social_contract import SocialContractRow
from models.tables.staff_directory_event import StaffDirectoryEvent
from models.tables.staff_member import StaffMember

__all__ = [
    "REPORT_INDEXES",
    "CaseChainHead",
    "CaseEvent",
    "CaseEventMark",
    "CaseInboxItem",
    "CaseMilestones",
    "CaseNumberRow",
    "CaseNumberSequence",
    "CaseProjection",
    "Delivery",
    "Family",
    "FamilyAccess",
    "FamilyDataKey",
    "FamilyErasure",
    "IdempotencyKey",
    "MunicipalityRow",
    "Notification",
    "ResourceChange",
    "ResourceProvider",
    "SocialContractRow",
    "StaffDirectoryEvent",
    "StaffMember",
]
