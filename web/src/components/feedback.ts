// How an action's outcome reaches the user: the API error's Chinese message, or a short
// confirmation. `useAction` runs a screen's calls with these and a busy flag per action;
// `confirmed` asks before an action that cannot be taken back.
import { reactive } from 'vue'
import { ElMessage, ElMessageBox } from 'element-plus'
import { common } from '@/messages'

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export function showError(error: unknown): void {
  ElMessage({ type: 'error', message: messageOf(error), showClose: true, duration: 6000,
    grouping: true })
}

export function showDone(message: string): void {
  ElMessage({ type: 'success', message, duration: 2500 })
}

/** Whether the user confirmed the question (a warning box with 确定 / 取消). */
export async function confirmed(message: string): Promise<boolean> {
  try {
    await ElMessageBox.confirm(message, common.confirm, {
      confirmButtonText: common.confirm, cancelButtonText: common.cancel, type: 'warning',
    })
    return true
  } catch {
    return false
  }
}

export interface ActionOptions<T> {
  /** the confirmation shown on success (made from the answer, if a function) */
  done?: string | ((answer: T) => string)
  /** what follows a success while the action still shows busy, e.g. reloading a list */
  then?: (answer: T) => unknown
  /** the failure's message, for a screen that also shows it in place */
  failed?: (message: string) => void
  /** show the failure only in place (through `failed`), not as a message */
  inline?: boolean
}

/**
 * A screen's actions by name: `run(name, call, options)` marks the name busy while the call
 * runs, shows the failure's Chinese message or the confirmation, and answers whether it
 * succeeded; `busy(name)` drives the button's spinner or the table's loading mask.
 */
export function useAction() {
  const running = reactive(new Map<string, number>())

  async function run<T>(name: string, call: () => Promise<T>,
    options: ActionOptions<T> = {}): Promise<boolean> {
    running.set(name, (running.get(name) ?? 0) + 1)
    try {
      const answer = await call()
      const done = typeof options.done === 'function' ? options.done(answer) : options.done
      if (done) showDone(done)
      await options.then?.(answer)
      return true
    } catch (error) {
      options.failed?.(messageOf(error))
      if (!options.inline) showError(error)
      return false
    } finally {
      const left = (running.get(name) ?? 1) - 1
      if (left > 0) running.set(name, left)
      else running.delete(name)
    }
  }

  return { run, busy: (name: string): boolean => running.has(name) }
}
