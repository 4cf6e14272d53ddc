// Strings of the auditor's screens (审计员).
export const auditor = {} as Record<string, unknown>
