/**
 * YAML syntax errors as config problems at the line a person must edit, with
 * a hint about what is wrong there (issue 14 §2). The yaml library reports
 * where the parser noticed the problem, which is often a line later than the
 * mistake (an unclosed quote or bracket is noticed where the file goes on), so
 * each known error code is traced back to the line that caused it.
 */
import type { LineCounter, YAMLError } from 'yaml'
import type { ConfigProblem } from './config-error.js'

const GENERIC = 'fix the YAML syntax (indent with spaces; quote values containing ": " or " #")'

export function yamlProblems(text: string, errors: readonly YAMLError[], lines: LineCounter): ConfigProblem[] {
  const src = text.split('\n')
  const out: ConfigProblem[] = []
  const seen = new Set<string>()
  const add = (line: number, message: string, hint: string) => {
    const key = `${line}\0${message}`
    if (seen.has(key)) return
    seen.add(key)
    out.push({ path: '', line, message: `YAML: ${message}`, hint })
  }
  for (const e of errors) {
    const at = e.pos ? lines.linePos(e.pos[0]).line : 1
    const end = e.pos ? lines.linePos(e.pos[1]).line : at
    const first = e.message.split('\n')[0]
    const text1 = src[at - 1] ?? ''
    switch (e.code) {
      case 'TAB_AS_INDENT':
        add(at, 'a tab is used for indentation', 'YAML indents with spaces only: replace the tab with spaces (2 per level)')
        break
      case 'DUPLICATE_KEY': {
        const key = /^\s*-?\s*([^:#]+?)\s*:/.exec(text1)?.[1] ?? 'a key'
        add(at, `"${key}" is set twice in the same section`, `keep one "${key}:" (the first is on line ${firstKeyLine(src, at, key)})`)
        break
      }
      case 'BLOCK_AS_IMPLICIT_KEY':
      case 'MULTILINE_IMPLICIT_KEY': {
        // "label: Front: door" (a second ": " in a plain value) or a line indented deeper than its siblings.
        const rest = text1.replace(/^\s*-?\s*[^:]+:\s/, '')
        if (e.code === 'BLOCK_AS_IMPLICIT_KEY' && /:\s/.test(rest)) add(at, 'a value contains ": "', `put the value in quotes, e.g. ${text1.trim().replace(/:\s+(.*)$/, ': "$1"')}`)
        else {
          const line = e.code === 'MULTILINE_IMPLICIT_KEY' ? end : Math.min(at + 1, src.length)
          add(line, 'this line is indented deeper than the key above it', 'indent it like the other keys of its section (or, if it is the value of the line above, put it on that line)')
        }
        break
      }
      case 'MISSING_CHAR':
      case 'BAD_INDENT':
      case 'UNEXPECTED_TOKEN': {
        if (/quote/i.test(first)) {
          const open = lastLineWith(src, at, (l) => (l.match(/"/g)?.length ?? 0) % 2 === 1) ?? lastLineWith(src, at, (l) => (l.match(/'/g)?.length ?? 0) % 2 === 1)
          add(open ?? at, 'a quoted value is not closed', 'add the closing quote at the end of the value, on the same line')
        } else if (/flow (sequence|mapping|collection)|end with a [\]}]/i.test(first)) {
          const open = lastLineWith(src, at, (l) => count(l, '[') + count(l, '{') > count(l, ']') + count(l, '}'))
          add(open ?? at, 'a [ or { is not closed', 'close it on the same line, or write the list as a block: one "- item" per line')
        } else if (/same column/i.test(first)) {
          add(at, 'this key is not aligned with the keys above it', 'indent it exactly like the other keys of its section; in a list item, keys line up after the "- "')
        } else add(at, first, GENERIC)
        break
      }
      default:
        add(at, first, GENERIC)
    }
  }
  return out
}

function count(s: string, ch: string): number {
  let n = 0
  for (const c of s.replace(/#.*$/, '')) if (c === ch) n++
  return n
}

/** The nearest line at or before `from` (1-based) whose text matches. */
function lastLineWith(src: string[], from: number, ok: (line: string) => boolean): number | null {
  for (let i = Math.min(from, src.length) - 1; i >= 0; i--) if (ok(src[i])) return i + 1
  return null
}

function firstKeyLine(src: string[], dup: number, key: string): number {
  const indent = /^\s*/.exec(src[dup - 1] ?? '')?.[0].length ?? 0
  for (let i = dup - 2; i >= 0; i--) {
    const m = /^(\s*)([^:#]+?)\s*:/.exec(src[i])
    if (m && m[1].length === indent && m[2] === key) return i + 1
  }
  return dup
}
