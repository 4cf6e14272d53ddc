// How an action's outcome reaches the user: the API error's Chinese message, or a short
// confirmation.
import { ElMessage } from 'element-plus'

export function showError(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error)
  ElMessage({ type: 'error', message, showClose: true, duration: 6000, grouping: true })
}

export function showDone(message: string): void {
  ElMessage({ type: 'success', message, duration: 2500 })
}

/** Runs an action, showing its error if it fails; answers whether it succeeded. */
export async function attempt(action: () => Promise<unknown>): Promise<boolean> {
  try {
    await action()
    return true
  } catch (error) {
    showError(error)
    return false
  }
}
