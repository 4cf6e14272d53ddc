// One view per route; each route names the action it needs, and the guard asks the API
// (GET /auth/me) before every screen that needs one: a refused action shows the refusal.
// The routes are also the table of screens: the navigation lists those with a group, the
// home screen those marked home, each by its title and only where the caller may act.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useSession } from '@/stores/session'
import { nav } from '@/messages'

declare module 'vue-router' {
  interface RouteMeta {
    title?: string
    action?: string
    public?: boolean
    /** the navigation group listing the screen (none: reached only by a link) */
    group?: string
    /** also a card on the home screen */
    home?: boolean
  }
}

// the screens inside the frame (AppShell), in the order the navigation lists them
const framed: RouteRecordRaw[] = [
  { path: '', name: 'home', component: () => import('@/views/HomeView.vue'),
    meta: { title: nav.home } },
  { path: 'search', name: 'search', component: () => import('@/views/SearchView.vue'),
    meta: { title: nav.search, action: 'search', group: nav.groupClerk, home: true } },
  { path: 'records/:id', name: 'record', component: () => import('@/views/RecordView.vue'),
    meta: { title: '档案阅览', action: 'record:read' } },
  { path: 'my-requests', name: 'my-requests',
    component: () => import('@/views/MyRequestsView.vue'),
    meta: { title: nav.myRequests, action: 'borrow:request', group: nav.groupClerk } },
  { path: 'customers', name: 'customers', component: () => import('@/views/CustomersView.vue'),
    meta: { title: nav.customers, action: 'customer:create', group: nav.groupArchivist } },
  { path: 'dossiers', name: 'dossiers', component: () => import('@/views/DossiersView.vue'),
    meta: { title: nav.dossiers, action: 'dossier:create', group: nav.groupArchivist } },
  { path: 'dossiers/:id', name: 'dossier', component: () => import('@/views/DossierView.vue'),
    meta: { title: nav.dossiers, action: 'dossier:read' } },
  { path: 'upload', name: 'upload', component: () => import('@/views/UploadView.vue'),
    meta: { title: nav.upload, action: 'record:create', group: nav.groupArchivist, home: true } },
  { path: 'inbox', name: 'inbox', component: () => import('@/views/InboxView.vue'),
    meta: { title: nav.inbox, action: 'record:create', group: nav.groupArchivist, home: true } },
  { path: 'jobs', name: 'jobs', component: () => import('@/views/JobsView.vue'),
    meta: { title: nav.jobs, action: 'job:read', group: nav.groupArchivist } },
  { path: 'loans', name: 'loans', component: () => import('@/views/LoansView.vue'),
    meta: { title: nav.loans, action: 'borrow:decide', group: nav.groupArchivist, home: true } },
  { path: 'disposition', name: 'disposition',
    component: () => import('@/views/DispositionView.vue'),
    meta: { title: nav.disposition, action: 'disposition:read', group: nav.groupArchivist } },
  { path: 'transfers', name: 'transfers', component: () => import('@/views/TransfersView.vue'),
    meta: { title: nav.transfers, action: 'transfer:read', group: nav.groupArchivist } },
  { path: 'retention', name: 'retention', component: () => import('@/views/RetentionView.vue'),
    meta: { title: nav.retention, action: 'retention:read', group: nav.groupArchivist } },
  { path: 'audit', name: 'audit', component: () => import('@/views/AuditLogView.vue'),
    meta: { title: nav.audit, action: 'audit:read', group: nav.groupAuditor, home: true } },
  { path: 'audit/stats', name: 'audit-stats',
    component: () => import('@/views/AuditStatsView.vue'),
    meta: { title: nav.stats, action: 'audit:read', group: nav.groupAuditor } },
  { path: 'accounts', name: 'accounts', component: () => import('@/views/AccountsView.vue'),
    meta: { title: nav.accounts, action: 'account:create', group: nav.groupAdmin, home: true } },
  { path: 'grants', name: 'grants', component: () => import('@/views/GrantsView.vue'),
    meta: { title: nav.grants, action: 'role:assign', group: nav.groupAdmin, home: true } },
  { path: 'policy', name: 'policy', component: () => import('@/views/PolicyView.vue'),
    meta: { title: nav.policy, action: 'policy:edit', group: nav.groupAdmin, home: true } },
  { path: 'forbidden', name: 'forbidden', component: () => import('@/views/ForbiddenView.vue'),
    meta: { title: '无权访问' } },
  { path: ':missing(.*)*', name: 'not-found', component: () => import('@/views/NotFoundView.vue'),
    meta: { title: '页面不存在' } },
]

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('@/views/LoginView.vue'),
    meta: { public: true, title: '登录' } },
  { path: '/password', name: 'password', component: () => import('@/views/PasswordView.vue'),
    meta: { title: '修改密码' } },
  { path: '/', component: () => import('@/components/AppShell.vue'), children: framed },
]

export interface Screen {
  to: string
  title: string
  action?: string
  group?: string
  home: boolean
}

/** The screens one opens from the navigation or the home screen, in route order. */
export const screens: Screen[] = framed
  .filter((route) => route.meta?.group || route.meta?.home)
  .map((route) => ({ to: `/${route.path}`, title: route.meta?.title ?? '',
    action: route.meta?.action, group: route.meta?.group, home: route.meta?.home ?? false }))

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach(async (to) => {
  const session = useSession()
  if (to.meta.public) return true
  // asked again for every screen that needs an action: a policy edit counts at once
  if (!session.checked || !session.me || to.meta.action) await session.load()
  if (!session.me) return { name: 'login', query: to.fullPath === '/' ? {} : { next: to.fullPath } }
  if (session.me.password_change_required && to.name !== 'password') return { name: 'password' }
  if (!session.can(to.meta.action)) {
    return { name: 'forbidden', query: { from: to.fullPath, action: to.meta.action } }
  }
  return true
})

router.afterEach((to) => {
  document.title = `${to.meta.title ?? ''} · 客户档案管理系统`
})
