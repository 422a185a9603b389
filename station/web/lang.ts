/** The console's language: the operator's own (operator.lang), else the browser's Accept-Language (issue 15). */
import type { Lang } from '../station-api.js'

export const LANGS: readonly Lang[] = ['zh-CN', 'en']

export function negotiateLang(acceptLanguage: string | undefined): Lang {
  if (!acceptLanguage) return 'en'
  const ranges = acceptLanguage.split(',').map((part, i) => {
    const [tag, ...params] = part.trim().split(';')
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    const qv = q ? Number(q.slice(2)) : 1
    return { tag: (tag ?? '').toLowerCase(), q: Number.isFinite(qv) ? qv : 0, i }
  }).filter((r) => r.tag && r.q > 0).sort((a, b) => b.q - a.q || a.i - b.i)
  for (const r of ranges) {
    if (r.tag === 'zh' || r.tag.startsWith('zh-')) return 'zh-CN'
    if (r.tag === 'en' || r.tag.startsWith('en-')) return 'en'
  }
  return 'en'
}

export function isLang(v: unknown): v is Lang {
  return typeof v === 'string' && (LANGS as readonly string[]).includes(v)
}
