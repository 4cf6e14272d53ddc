// The lists the API pages by cursor: a route whose GET answers `{ items, next }` and takes
// `limit` and `cursor` (the previous page's `next`). `usePagedList` holds the rows read so
// far and reads the first page again, with the screen's filters, or the next one.
import { computed, ref, type Ref } from 'vue'
import { useAction } from '@/components/feedback'
import { api, ok } from './client'
import type { paths } from './schema'

type Get<P extends keyof paths> = paths[P] extends { get: infer O } ? O : never
type Answer<P extends keyof paths> =
  Get<P> extends { responses: { 200: { content: { 'application/json': infer A } } } } ? A : never
type Params<P extends keyof paths> =
  Get<P> extends { parameters: infer X extends { query?: unknown; path?: unknown } } ? X : never

/** The routes whose GET answers a page of items and the next page's cursor. */
export type PagedPath = { [P in keyof paths]:
  Answer<P> extends { items: unknown[]; next: string | null } ? P : never }[keyof paths]
export type ItemOf<P extends PagedPath> = Answer<P> extends { items: (infer I)[] } ? I : never
type Page<P extends PagedPath> = { items: ItemOf<P>[]; next: string | null }
type Query<P extends PagedPath> = Omit<NonNullable<Params<P>['query']>, 'limit' | 'cursor'>

/** The filters of one reading: the route's query (less limit and cursor), its path. */
export type PageParams<P extends PagedPath> = { query?: Query<P> } &
  (undefined extends Params<P>['path'] ? { path?: never } : { path: Params<P>['path'] })

export interface PagedOptions<T> {
  /** rows per page (50) */
  limit?: number
  /** the field that tells rows apart, for `put` ('id') */
  key?: keyof T
  /** a failed reload is shown in place (from `error`), not as a message */
  inlineError?: boolean
}

// one loosely typed GET inside; the caller's types come from the route (P)
const get = api.GET as unknown as <T>(path: string, init: unknown) =>
  Promise<{ data?: T; error?: unknown; response: Response }>

export function usePagedList<P extends PagedPath>(path: P,
  params: () => PageParams<P> = () => ({}) as PageParams<P>,
  options: PagedOptions<ItemOf<P>> = {}) {
  const items = ref([]) as Ref<ItemOf<P>[]>
  const next = ref<string | null>(null)
  const error = ref('')
  const { run, busy } = useAction()
  // a reading overtaken by a newer reload is dropped
  let generation = 0

  function page(cursor: string | null): Promise<Page<P>> {
    const { path: where, query } = params() as { path?: unknown; query?: object }
    return ok(get<Page<P>>(path, { params: { path: where,
      query: { ...query, limit: options.limit ?? 50, cursor: cursor ?? undefined } } }))
  }

  /** The first page again, with the filters as they are now. */
  function reload(): Promise<boolean> {
    const reading = ++generation
    error.value = ''
    return run('reload', async () => {
      const first = await page(null)
      if (reading !== generation) return
      items.value = first.items
      next.value = first.next
    }, { inline: options.inlineError,
      failed: (message) => { if (reading === generation) error.value = message } })
  }

  /** The next page, added below the rows read so far. */
  async function loadMore(): Promise<boolean> {
    const reading = generation
    const cursor = next.value
    if (cursor === null) return false
    return run('more', async () => {
      const further = await page(cursor)
      if (reading !== generation) return
      items.value = [...items.value, ...further.items]
      next.value = further.next
    })
  }

  /** A row changed or made here: it replaces the row with its key, or comes first. */
  function put(item: ItemOf<P>): void {
    const key = options.key ?? ('id' as keyof ItemOf<P>)
    const at = items.value.findIndex((row) => row[key] === item[key])
    if (at >= 0) items.value.splice(at, 1, item)
    else items.value.unshift(item)
  }

  return {
    items,
    error,
    loading: computed(() => busy('reload')),
    loadingMore: computed(() => busy('more')),
    /** whether a next page exists */
    more: computed(() => next.value !== null),
    reload,
    loadMore,
    put,
  }
}
