"""SQLAlchemy models, one module per area; importing this package registers them all."""

from app.models.accounts import ApiToken, Role, User, UserRole
from app.models.certification import (
    AuditEntry,
    BadRange,
    Certification,
    LabellingTask,
    Reco,
    ReferenceRun,
    Review,
    ReviewState,
    RunClaim,
    Status,
    TaskRun,
)
from app.models.competitions import PENDING_NAME, Competition, Participation, PendingFile, Phase
from app.models.datasets import Dataset, DatasetFile, DatasetVersion, FileKind
from app.models.exports import ExportStatus, SubmissionExport
from app.models.phases import DEFAULT_PHASE, CompetitionPhase
from app.models.runs import Lumisection, MonitoringElement, RrRange, Run, RunClass
from app.models.submissions import PLATFORM_ERROR, FinalSelection, Rescore, Submission, SubmissionStatus
from app.models.suggestions import (
    QueueOrder,
    RangeOrigin,
    SourceEvaluation,
    SourceKind,
    SourceRunStat,
    SuggestionScore,
    SuggestionSource,
    TaskRunRank,
)
from app.models.system import HealthCheck
from app.models.teams import Team, TeamMember, TeamMergeRequest
from app.models.uploads import Upload, UploadState

__all__ = [
    "DEFAULT_PHASE",
    "PENDING_NAME",
    "PLATFORM_ERROR",
    "ApiToken",
    "AuditEntry",
    "BadRange",
    "Certification",
    "Competition",
    "CompetitionPhase",
    "Dataset",
    "DatasetFile",
    "DatasetVersion",
    "ExportStatus",
    "FileKind",
    "FinalSelection",
    "HealthCheck",
    "LabellingTask",
    "Lumisection",
    "MonitoringElement",
    "Participation",
    "PendingFile",
    "Phase",
    "QueueOrder",
    "RangeOrigin",
    "Reco",
    "ReferenceRun",
    "Rescore",
    "Review",
    "ReviewState",
    "Role",
    "RrRange",
    "Run",
    "RunClaim",
    "RunClass",
    "SourceEvaluation",
    "SourceKind",
    "SourceRunStat",
    "Status",
    "Submission",
    "SubmissionExport",
    "SubmissionStatus",
    "SuggestionScore",
    "SuggestionSource",
    "TaskRun",
    "TaskRunRank",
    "Team",
    "TeamMember",
    "TeamMergeRequest",
    "Upload",
    "UploadState",
    "User",
    "UserRole",
]
