"""Tables and their shared types."""

from models.tables import (
    FIELD_ROLES,
    Block,
    DailyReport,
    District,
    InboundMessage,
    JobRun,
    Lease,
    Outbox,
    Person,
    PersonPhone,
    Post,
    ReportChange,
    ReportValue,
    Role,
    Sector,
    ServiceState,
    Village,
)
from models.types import UTCDateTime, utcnow

__all__ = [
    "FIELD_ROLES",
    "Block",
    "DailyReport",
    "District",
    "InboundMessage",
    "JobRun",
    "Lease",
    "Outbox",
    "Person",
    "PersonPhone",
    "Post",
    "ReportChange",
    "ReportValue",
    "Role",
    "Sector",
    "ServiceState",
    "UTCDateTime",
    "Village",
    "utcnow",
]
