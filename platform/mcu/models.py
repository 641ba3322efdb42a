"""Imports every area's tables so that SQLModel.metadata (migrations, tests) sees them all.

Each area owns its tables in its own models.py; this module only gathers them.
"""

from mcu.analytics.models import (
    KpiRollup,
    KpiRollupAnswerHours,
    KpiRollupIndicator,
    KpiRollupIndicatorChange,
    KpiRollupStale,
    KpiRollupState,
    KpiValue,
)
from mcu.audit.models import AuditRecord
from mcu.auth.models import LoginAttempt, RoleAssignment, User
from mcu.emergencies.models import Emergency
from mcu.messages.models import Assignment, Citizen, Deadline, Event, IntakeItem, Message
from mcu.notifications.models import MailOutbox, Notification
from mcu.participation.models import ParticipationEvent
from mcu.reports.models import Report
from mcu.roadmaps.models import InformationCampaign, Roadmap, RoadmapMeasure
from mcu.rules.models import RuleDecision
from mcu.tenancy.models import Tenant, TenantConfigVersion, TenantCounter

__all__ = [
    "Assignment",
    "AuditRecord",
    "Citizen",
    "Deadline",
    "Emergency",
    "Event",
    "InformationCampaign",
    "IntakeItem",
    "KpiRollup",
    "KpiRollupAnswerHours",
    "KpiRollupIndicator",
    "KpiRollupIndicatorChange",
    "KpiRollupStale",
    "KpiRollupState",
    "KpiValue",
    "LoginAttempt",
    "MailOutbox",
    "Message",
    "Notification",
    "ParticipationEvent",
    "Report",
    "Roadmap",
    "RoadmapMeasure",
    "RoleAssignment",
    "RuleDecision",
    "Tenant",
    "TenantConfigVersion",
    "TenantCounter",
    "User",
]

# The rollup keeps its tables current from session hooks: registered wherever the tables are.
import mcu.analytics.rollup  # noqa: F401
