"""Action names and roles the policy speaks of (one place, so routes cannot misspell them)."""

from enum import StrEnum


class Role(StrEnum):
    ARCHIVIST = "archivist"  # 档案管理员
    STAFF = "staff"  # 业务人员
    AUDITOR = "auditor"  # 审计员
    SECURITY_ADMIN = "security_admin"  # 安全管理员
    SYSTEM_ADMIN = "system_admin"  # 系统管理员


ROLE_LABELS = {
    Role.ARCHIVIST: "档案管理员",
    Role.STAFF: "业务人员",
    Role.AUDITOR: "审计员",
    Role.SECURITY_ADMIN: "安全管理员",
    Role.SYSTEM_ADMIN: "系统管理员",
}


class Action(StrEnum):
    CUSTOMER_CREATE = "customer:create"
    CUSTOMER_READ = "customer:read"
    DOSSIER_CREATE = "dossier:create"
    DOSSIER_READ = "dossier:read"
    RECORD_CREATE = "record:create"
    RECORD_READ = "record:read"  # catalogue metadata
    RECORD_CONTENT = "record:content"  # original bytes, page text, access copy
    JOB_READ = "job:read"
    SEARCH = "search"
    BORROW_REQUEST = "borrow:request"  # ask to borrow; see and return one's own loans
    BORROW_DECIDE = "borrow:decide"  # approve or reject others' requests, end their loans
    AUDIT_READ = "audit:read"  # events, exports and chain verification
    ACCOUNT_CREATE = "account:create"
    ACCOUNT_DISABLE = "account:disable"
    ROLE_ASSIGN = "role:assign"
    POLICY_EDIT = "policy:edit"
