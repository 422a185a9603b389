/** One problem in a config file: where, what, and what to do (DESIGN §4 "Errors are values"). */
export interface ConfigProblem {
  /** JSON-pointer-like path, e.g. "devices[2].pin". */
  path: string
  /** 1-based line in the YAML file, when known. */
  line: number | null
  message: string
  hint: string
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID'
  constructor(readonly file: string, readonly problems: readonly ConfigProblem[]) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n` + problems.map((p) => formatProblem(file, p)).join('\n'))
  }
}

export function formatProblem(file: string, p: ConfigProblem): string {
  const where = p.line ? `${file}:${p.line}` : file
  return `  ${where}  ${p.path || '(top level)'}: ${p.message}${p.hint ? `\n      hint: ${p.hint}` : ''}`
}
