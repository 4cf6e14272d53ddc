// Who is signed in and what they may do: GET /auth/me, asked again at every navigation
// to a screen that needs an action, so the navigation and the guards follow the policy.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, ok, setCsrf } from '@/api/client'
import type { components } from '@/api/schema'

export type Me = components['schemas']['Me']

export const useSession = defineStore('session', () => {
  const me = ref<Me | null>(null)
  const checked = ref(false)

  async function load(): Promise<Me | null> {
    try {
      me.value = await ok(api.GET('/api/v1/auth/me'))
      setCsrf(me.value.csrf_token ?? null)
    } catch {
      me.value = null
      setCsrf(null)
    }
    checked.value = true
    return me.value
  }

  async function login(username: string, password: string): Promise<boolean> {
    const session = await ok(api.POST('/api/v1/auth/session', { body: { username, password } }))
    setCsrf(session.csrf_token)
    await load()
    return session.password_change_required ?? false
  }

  async function changePassword(current: string, next: string): Promise<void> {
    const answer = await ok(api.POST('/api/v1/auth/password', {
      body: { current_password: current, new_password: next },
    }))
    setCsrf(answer.csrf_token ?? null)
    await load()
  }

  async function logout(): Promise<void> {
    try {
      await ok(api.POST('/api/v1/auth/logout'))
    } finally {
      forget()
    }
  }

  function forget(): void {
    me.value = null
    setCsrf(null)
  }

  function can(action: string | undefined): boolean {
    if (!action) return true
    return me.value?.actions?.includes(action) ?? false
  }

  return { me, checked, load, login, changePassword, logout, forget, can }
})
