"""Action names and roles the policy speaks of (one place, so routes cannot misspell them).

Public surface: :class:`Role`, :class:`Action`, ``ROLE_LABELS``.
"""

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
    CUSTOMER_UPDATE = "customer:update"  # 户名, class, voltage, address, phone, ID number
    DOSSIER_CREATE = "dossier:create"
    DOSSIER_READ = "dossier:read"
    DOSSIER_UPDATE = "dossier:update"  # category, level, where its paper originals are kept
    RECORD_CREATE = "record:create"
    RECORD_READ = "record:read"  # catalogue metadata
    RECORD_CONTENT = "record:content"  # original bytes, page text, access copy
    RECORD_UPDATE = "record:update"  # catalogue metadata: title, type, date, level
    PERSONAL_READ = "personal:read"  # phone, ID and bank numbers unmasked (个人信息)
    JOB_READ = "job:read"
    JOB_RETRY = "job:retry"  # a failed job queued again
    SEARCH = "search"
    BORROW_REQUEST = "borrow:request"  # ask to borrow; see and return one's own loans
    BORROW_DECIDE = "borrow:decide"  # approve or reject others' requests, end their loans
    BORROW_STATS = "borrow:stats"  # 利用统计
    RECORD_DELETE = "record:delete"  # ask for a record's destruction (past its retention)
    RETENTION_READ = "retention:read"  # the retention schedule 保管期限表
    RETENTION_EDIT = "retention:edit"
    DISPOSITION_READ = "disposition:read"  # appraisal queue, proposals, 销毁清册
    DISPOSITION_PROPOSE = "disposition:propose"  # retain (extend) or destroy
    DISPOSITION_APPROVE = "disposition:approve"  # the second person of a destruction
    HOLD_PLACE = "hold:place"  # legal hold on a record, dossier or customer
    HOLD_RELEASE = "hold:release"
    TRANSFER_CREATE = "transfer:create"  # 移交: export a package, record its handover
    TRANSFER_READ = "transfer:read"
    AUDIT_READ = "audit:read"  # events, exports and chain verification
    ACCOUNT_READ = "account:read"  # the account directory: names, roles, units, state
    ACCOUNT_CREATE = "account:create"
    ACCOUNT_DISABLE = "account:disable"
    ACCOUNT_RESET = "account:reset"  # a new temporary password, changed at next login
    ROLE_ASSIGN = "role:assign"
    POLICY_EDIT = "policy:edit"
    MAINTENANCE = "maintenance:run"  # operations of the system admin (系统维护)
