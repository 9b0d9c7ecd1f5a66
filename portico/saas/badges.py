"""Bootstrap badge colours of an account's status and its backup result, shared by every account list."""

from portico.saas.models import AccountStatus, BackupResult

RESULT_BADGES = {
    BackupResult.SUCCESS: "text-bg-success",
    BackupResult.WARNING: "text-bg-warning",
    BackupResult.FAILED: "text-bg-danger",
    BackupResult.NEVER: "text-bg-secondary",
}
STATUS_BADGES = {
    AccountStatus.ACTIVE: "text-bg-success",
    AccountStatus.DEACTIVATED: "text-bg-warning",
    AccountStatus.DELETED: "text-bg-secondary",
}
