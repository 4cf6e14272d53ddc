// Every string a user reads, in zh-CN. Screens of each user group keep theirs in their own
// section file (clerk, archivist, auditor, admin); the shared ones are here.
import { admin } from './admin'
import { archivist } from './archivist'
import { auditor } from './auditor'
import { clerk } from './clerk'

export const common = {
  appName: '客户档案管理系统',
  company: '供电公司 · 客户档案',
  username: '用户名',
  password: '密码',
  login: '登录',
  loggingIn: '正在登录…',
  logout: '退出登录',
  currentPassword: '当前密码',
  newPassword: '新密码',
  repeatPassword: '再次输入新密码',
  changePassword: '修改密码',
  mustChangePassword: '您的密码已被重置，请先设置新密码后再继续使用。',
  passwordsDiffer: '两次输入的新密码不一致',
  passwordChanged: '密码已修改',
  required: '此项为必填项',
  save: '保存',
  saved: '已保存',
  cancel: '取消',
  confirm: '确定',
  create: '新建',
  edit: '编辑',
  search: '搜索',
  reset: '重置',
  refresh: '刷新',
  more: '加载更多',
  noMore: '没有更多了',
  loading: '加载中…',
  empty: '暂无数据',
  actions: '操作',
  yes: '是',
  no: '否',
  home: '首页',
  reminders: '提醒',
  noReminders: '暂无提醒',
  markRead: '标为已读',
  forbiddenTitle: '无权访问',
  forbiddenText: '您的角色无权使用此功能。如需使用，请联系安全管理员授权。',
  notFoundTitle: '页面不存在',
  backHome: '返回首页',
  welcome: (name: string) => `${name}，您好`,
  role: '角色',
  unit: '单位',
  clearance: '密级',
  personalInfo: '个人信息权限',
  units: '授权单位',
  sessionEnded: '登录已过期，请重新登录',
  progress: '进度',
  status: '状态',
  time: '时间',
  downloadStarted: '已开始下载',
}

export const nav = {
  home: '首页',
  search: '档案检索',
  myRequests: '我的借阅',
  customers: '客户管理',
  dossiers: '案卷管理',
  upload: '扫描上传',
  inbox: '待归档',
  jobs: '任务监控',
  loans: '借阅审批',
  disposition: '鉴定销毁',
  transfers: '档案移交',
  retention: '保管期限',
  audit: '审计日志',
  stats: '访问统计',
  accounts: '账户管理',
  grants: '授权管理',
  policy: '策略管理',
  groupClerk: '查阅利用',
  groupArchivist: '档案管理',
  groupAuditor: '安全审计',
  groupAdmin: '系统管理',
}

const ERRORS: Record<string, string> = {
  not_authenticated: '用户名或密码错误，或登录已过期',
  forbidden: '您无权执行此操作',
  password_change_required: '请先修改密码',
  csrf_failed: '页面已过期，请刷新后重试',
  not_found: '未找到该对象，或您无权查看',
  invalid_input: '输入有误',
  payload_too_large: '文件过大，超过了允许的上限',
  unsupported_media_type: '不支持的文件格式',
  rate_limited: '操作过于频繁，请稍后再试',
  conflict: '操作与当前状态冲突',
  destroyed: '该档案已销毁',
  duplicate_record: '该文件已归档，不能重复上传',
  separation_of_duties: '违反三员分立原则，操作被拒绝',
  locked: '对象已锁定，暂不能修改',
  integrity_error: '数据完整性错误，请联系系统管理员',
  backend_unavailable: '后台服务暂时不可用，请稍后重试',
  client_disconnected: '请求未完整送达，请重试',
  internal_error: '系统内部错误，请联系系统管理员',
  network: '无法连接服务器，请检查网络',
  http_error: '请求失败',
}

/** The Chinese message of an API error; the server's own detail follows as the reason. */
export function errorMessage(status: number, code: string, detail: string): string {
  const text = ERRORS[code] ?? `${ERRORS.http_error}（${status}）`
  return detail ? `${text}：${detail}` : text
}

// 文件类型 come from the retention schedule (GET /retention/schedules); 分类 are fixed
export const CATEGORIES = ['业扩报装', '变更用电', '电能计量', '用电检查', '抄核收', '客户信息服务']
export const PERIODS: Record<string, string> = { Y: '永久', D30: '30年', D10: '10年' }
export const LEVELS = ['公开', '内部', '受限']
export const CUSTOMER_CLASSES = ['高压', '低压']

export { admin, archivist, auditor, clerk }
export const t = { common, nav, clerk, archivist, auditor, admin }
