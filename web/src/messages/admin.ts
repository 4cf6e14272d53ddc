// Strings of the security and system administrators' screens (安全管理员, 系统管理员).
export const admin = {} as Record<string, unknown>
