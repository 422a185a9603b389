/**
 * Carry out an install plan, or print it (--dry-run). Files are written
 * atomically under the prefix (a power cut mid-install leaves the old unit or
 * the new one, never half of one); commands run one after another, and a
 * failing one is reported without stopping the rest, so one re-run after the
 * fix completes the install.
 */
import { mkdirSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { writeFileAtomic } from '../../gateway/config/atomic-file.js'
import type { InstallPlan, PlannedCommand } from './install-plan.js'

/** For printing a command so it can be pasted into a shell. */
export function shellLine(argv: string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')
}

export function renderDryRun(plan: InstallPlan, prefix: string): string {
  const out: string[] = []
  for (const f of plan.files) {
    out.push(`# ==== ${join(prefix, f.path)} (${f.what}, mode ${f.mode.toString(8).padStart(4, '0')})`, f.content.trimEnd(), '')
  }
  out.push(prefix === '/'
    ? '# ==== commands (run as root after writing the files)'
    : `# ==== commands (NOT run with --prefix ${prefix}: run them on the target)`)
  for (const c of plan.commands) out.push(`${shellLine(c.argv)}    # ${c.why}`)
  return out.join('\n') + '\n'
}

export function writePlannedFiles(plan: InstallPlan, prefix: string, progress: (line: string) => void): void {
  for (const f of plan.files) {
    const target = join(prefix, f.path)
    mkdirSync(dirname(target), { recursive: true, mode: 0o755 })
    writeFileAtomic(target, f.content, f.mode)
    progress(`wrote ${target} (${f.what})`)
  }
}

/** Returns the commands that failed, each with why. */
export function runPlannedCommands(commands: PlannedCommand[], progress: (line: string) => void): string[] {
  const failed: string[] = []
  for (const c of commands) {
    const line = shellLine(c.argv)
    progress(`running: ${line}`)
    // Their own output goes to stderr too: stdout is kept for what this command prints.
    const r = spawnSync(c.argv[0], c.argv.slice(1), { stdio: ['ignore', 2, 2], timeout: 120_000 })
    if (r.error) failed.push(`${line}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? `${c.argv[0]} is not installed` : r.error.message}`)
    else if (r.status !== 0) failed.push(`${line}: exit ${r.status ?? r.signal}`)
  }
  return failed
}
