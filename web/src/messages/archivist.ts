// Strings of the archivist's screens (档案管理员).
export const archivist = {} as Record<string, unknown>
