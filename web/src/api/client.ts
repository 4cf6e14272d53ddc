// The one way the application speaks to the archive: the typed client generated from the
// app's OpenAPI schema (src/api/schema.d.ts, `npm run api-types`), the session cookie sent
// by the browser, the CSRF token added to every request that changes anything, and every
// error turned into an ApiError with a Chinese message.
import createClient, { type Middleware } from 'openapi-fetch'
import type { paths } from './schema'
import { errorMessage } from '@/messages'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(errorMessage(status, code, detail))
  }
}

let csrf: string | null = null
let onSignedOut: () => void = () => {}

export function setCsrf(token: string | null): void {
  csrf = token
}

export function whenSignedOut(callback: () => void): void {
  onSignedOut = callback
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

/** The request with the CSRF token, if it changes anything. */
function signed(request: Request): Request {
  if (!SAFE.has(request.method) && csrf) request.headers.set('X-CSRF-Token', csrf)
  return request
}

const session: Middleware = { onRequest: ({ request }) => signed(request) }

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' })
api.use(session)

type Answer<T> = { data?: T; error?: unknown; response: Response }

/** The answer's data, or an ApiError (a 401 also signs the page out). */
export async function ok<T>(pending: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>
  try {
    answer = await pending
  } catch {
    throw new ApiError(0, 'network', '')
  }
  if (answer.response.ok) return answer.data as T
  throw failure(answer.response.status, answer.error)
}

export function failure(status: number, body: unknown): ApiError {
  const fields = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>
  const error = new ApiError(status, String(fields.error ?? 'http_error'),
    String(fields.detail ?? ''), fields)
  if (status === 401) onSignedOut()
  return error
}

export interface UploadProgress {
  loaded: number
  total: number
}

/** A multipart upload with its progress (fetch reports none). */
export function upload<T>(url: string, form: FormData,
  progress: (p: UploadProgress) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest()
    request.open('POST', url)
    if (csrf) request.setRequestHeader('X-CSRF-Token', csrf)
    request.responseType = 'json'
    request.upload.onprogress = (event) => progress({ loaded: event.loaded, total: event.total })
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) resolve(request.response as T)
      else reject(failure(request.status, request.response))
    }
    request.onerror = () => reject(new ApiError(0, 'network', ''))
    request.send(form)
  })
}

/** A fetch of a route outside the typed client, with the session: its response if OK,
 *  else the ApiError (a 401 also signs the page out). */
export async function fetchOk(url: string, init: RequestInit = {}): Promise<Response> {
  let response: Response
  try {
    response = await fetch(signed(new Request(url, { credentials: 'same-origin', ...init })))
  } catch {
    throw new ApiError(0, 'network', '')
  }
  if (response.ok) return response
  let body: unknown = {}
  try { body = await response.json() } catch { /* not JSON */ }
  throw failure(response.status, body)
}

/** A file the browser saves (CSV, JSONL, a transfer package), fetched with the session. */
export async function download(url: string, name: string): Promise<void> {
  const response = await fetchOk(url)
  const link = document.createElement('a')
  link.href = URL.createObjectURL(await response.blob())
  link.download = name
  link.click()
  URL.revokeObjectURL(link.href)
}

/** A GET of a route by its path and query, for the few calls typed by hand. */
export async function getJson<T>(path: string,
  query: Record<string, string | number | undefined> = {}): Promise<T> {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value))
  }
  const response = await fetchOk(params.size ? `${path}?${params}` : path)
  try { return await response.json() as T } catch { return {} as T }
}
