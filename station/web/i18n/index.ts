/** All console strings, per language, in one place (issue 15); served to the browser as /i18n/<lang>.json. */
import type { Lang } from '../../station-api.js'
import { en } from './en.js'
import { zhCN } from './zh-CN.js'

export const STRINGS: Record<Lang, Record<string, string>> = { en, 'zh-CN': zhCN }
