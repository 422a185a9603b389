/**
 * `npm run bench` (issue 2 §12): runs each benchmark in bench/ as its own
 * child process (`node --import tsx --expose-gc bench/<name>.ts`, so one
 * bench's heap, GC state and open handles never colour the next), in a fixed
 * order, and writes their Markdown sections to bench/RESULTS.md with a header
 * naming the date, machine and command.
 *
 *   npm run bench                      every bench in ORDER; a missing file is skipped
 *   npm run bench -- latency outbox    only these; their sections are replaced, the rest kept
 *   options: --out=FILE (default bench/RESULTS.md), --timeout=SECONDS per bench (default 900),
 *            --soak-hour (bench/memory.ts adds a one-hour soak with heap snapshots)
 *
 * A bench prints one Markdown section on stdout and anything else on stderr
 * (passed through here). Output that does not start with a heading is kept
 * verbatim in a fenced block. A bench that fails or times out is recorded as
 * FAILED with the tail of its stderr, and the run continues; the exit code is
 * then 1. Each section sits between `<!-- bench:NAME -->` and
 * `<!-- /bench:NAME -->` so a partial run can replace it in place; anything
 * written outside the markers is kept.
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { machine, machineLine } from './bench-stats.js'

/** The suite, in the order it runs: the allocation proof first, on a quiet machine. */
const ORDER = ['core-gc', 'clock-boxing', 'latency', 'ble-decode', 'panic-latency', 'panic-station-latency', 'lamp-latency', 'lamp-core-latency', 'outbox', 'drain', 'ble-dbus-latency', 'ble-station-latency', 'group-fanout', 'ble-flood-memory', 'dc09', 'login-flood', 'start', 'memory', 'station-ingest', 'station-console', 'metrics', 'station-metrics', 'city', 'fanout']
/** Modules in bench/ that are not benchmarks. */
const NOT_BENCHES = new Set(['run', 'bench-stats', 'gc-trace', 'core-gc-rows', 'login-flood-client', 'fanout-broker', 'fanout-clients', 'fanout-shared', 'fanout-floor'])
const STDERR_TAIL_LINES = 30

const benchDir = dirname(fileURLToPath(import.meta.url))
const root = resolve(benchDir, '..')

interface Outcome {
  name: string
  status: 'ok' | 'failed'
  code: number | null
  signal: string | null
  timedOut: boolean
  seconds: number
  startedAt: Date
  stdout: string
  stderrTail: string
}

/** `--soak-hour`: bench/memory.ts adds its one-hour soak (issue 13 §6); its timeout grows by the hour. */
let soakHour = false

function parseArgs(argv: string[]): { names: string[]; out: string; timeoutS: number } {
  const names: string[] = []
  let out = join(benchDir, 'RESULTS.md')
  let timeoutS = 900
  for (const a of argv) {
    if (a.startsWith('--out=')) out = resolve(a.slice(6))
    else if (a.startsWith('--timeout=')) timeoutS = Number(a.slice(10))
    else if (a === '--soak-hour') soakHour = true
    else if (a.startsWith('-')) usage(`unknown option ${a}`)
    else names.push(a.replace(/^bench\//, '').replace(/\.ts$/, ''))
  }
  if (!(timeoutS > 0)) usage('--timeout wants a number of seconds > 0')
  for (const n of names) {
    if (!/^[A-Za-z0-9_-]+$/.test(n) || NOT_BENCHES.has(n)) usage(`"${n}" is not a benchmark name`)
    if (!existsSync(join(benchDir, `${n}.ts`))) usage(`no bench/${n}.ts`)
  }
  return { names, out, timeoutS }
}

function usage(problem: string): never {
  const present = readdirSync(benchDir).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).filter((n) => !NOT_BENCHES.has(n))
  process.stderr.write(`bench: ${problem}\nusage: npm run bench [-- NAME ...] [--out=FILE] [--timeout=SECONDS] [--soak-hour]\nbenchmarks here: ${present.join(', ')}\n`)
  process.exit(2)
}

let current: { pid: number } | null = null

/** Kill a bench and whatever it started (it leads its own process group). */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}

function runBench(name: string, timeoutS: number): Promise<Outcome> {
  const startedAt = new Date()
  const t0 = performance.now()
  return new Promise((done) => {
    const soak = soakHour && name === 'memory'
    if (soak) timeoutS += 3900
    const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', `bench/${name}.ts`, ...(soak ? ['--soak-hour'] : [])], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group, so a timeout also stops its mosquitto / dbus-daemon / socat
    })
    current = child.pid ? { pid: child.pid } : null
    const out: Buffer[] = []
    let tail = ''
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => {
      process.stderr.write(d)
      tail = (tail + d.toString()).split('\n').slice(-STDERR_TAIL_LINES - 1).join('\n')
    })
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      process.stderr.write(`bench: ${name} exceeded ${timeoutS} s; stopping it\n`)
      if (child.pid) killGroup(child.pid, 'SIGTERM')
      setTimeout(() => { if (child.pid && child.exitCode === null) killGroup(child.pid, 'SIGKILL') }, 5000).unref()
    }, timeoutS * 1000)
    child.on('error', (e) => { tail += `\n${e.message}` })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      current = null
      // Reap anything the bench left behind in its group (a crashed bench's mosquitto, say).
      if (child.pid) killGroup(child.pid, 'SIGTERM')
      done({
        name,
        status: code === 0 && !timedOut ? 'ok' : 'failed',
        code,
        signal,
        timedOut,
        seconds: (performance.now() - t0) / 1000,
        startedAt,
        stdout: Buffer.concat(out).toString().trim(),
        stderrTail: tail.trim(),
      })
    })
  })
}

function fence(text: string): string {
  let f = '```'
  while (text.includes(f)) f += '`'
  return `${f}text\n${text}\n${f}`
}

function section(o: Outcome, machineText: string): string {
  const cmd = `node --import tsx --expose-gc bench/${o.name}.ts`
  const when = o.startedAt.toISOString().replace('T', ' ').slice(0, 16)
  const lines = [`<!-- bench:${o.name} -->`]
  const isMarkdown = o.stdout.startsWith('#')
  if (!isMarkdown || o.status === 'failed') lines.push(`## ${o.name} (bench/${o.name}.ts)`, '')
  lines.push(`_\`${cmd}\`, ${when} UTC, ${o.seconds.toFixed(0)} s; ${machineText}_`, '')
  if (o.status === 'failed') {
    const why = o.timedOut ? `timed out after ${o.seconds.toFixed(0)} s` : o.signal ? `killed by ${o.signal}` : `exit code ${o.code}`
    lines.push(`**FAILED**: ${why}.`, '')
  }
  if (o.stdout) lines.push(isMarkdown ? o.stdout : fence(o.stdout), '')
  if (o.status === 'failed' && o.stderrTail) lines.push(`Last lines of stderr:`, '', fence(o.stderrTail), '')
  lines.push(`<!-- /bench:${o.name} -->`)
  return lines.join('\n')
}

function header(command: string, ran: Outcome[], skipped: string[]): string {
  const m = machine()
  const failed = ran.filter((o) => o.status === 'failed').map((o) => o.name)
  return [
    '<!-- bench:header -->',
    '# Benchmark results',
    '',
    'Written by `npm run bench` (bench/run.ts); each section below names its own command, date and machine.',
    '',
    `- Last written: ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC by \`${command}\``,
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB RAM; Node ${m.node}; ${m.os}`,
    `- This run: ${ran.map((o) => `${o.name} (${o.status === 'ok' ? `${o.seconds.toFixed(0)} s` : 'FAILED'})`).join(', ') || 'nothing'}` +
      (skipped.length ? `; skipped (no file): ${skipped.join(', ')}` : '') +
      (failed.length ? `; **failed: ${failed.join(', ')}**` : ''),
    '<!-- /bench:header -->',
  ].join('\n')
}

const block = (name: string): RegExp => new RegExp(`<!-- bench:${name} -->[\\s\\S]*?<!-- /bench:${name} -->`)

/** Replace the header and each fresh section in place; insert new ones after their predecessor in ORDER. */
function merge(old: string, head: string, sections: Map<string, string>): string {
  let doc = old.trim()
  doc = block('header').test(doc) ? doc.replace(block('header'), () => head) : `${head}\n\n${doc}`.trim()
  const order = [...ORDER, ...[...sections.keys()].filter((n) => !ORDER.includes(n))]
  for (const [name, text] of sections) {
    if (block(name).test(doc)) {
      doc = doc.replace(block(name), () => text)
      continue
    }
    // After the nearest earlier section that is present, else right after the header.
    let after = 'header'
    for (const prev of order.slice(0, Math.max(0, order.indexOf(name)))) if (block(prev).test(doc)) after = prev
    const end = doc.match(block(after)) as RegExpMatchArray
    const at = (end.index as number) + end[0].length
    doc = `${doc.slice(0, at)}\n\n${text}${doc.slice(at)}`
  }
  return `${doc}\n`
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const { names, out, timeoutS } = parseArgs(args)
  const command = process.env.npm_lifecycle_event === 'bench'
    ? `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`
    : `node --import tsx bench/run.ts${args.length ? ` ${args.join(' ')}` : ''}`
  const wanted = names.length ? names : ORDER
  const skipped = wanted.filter((n) => !existsSync(join(benchDir, `${n}.ts`)))
  const unlisted = readdirSync(benchDir).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).filter((n) => !ORDER.includes(n) && !NOT_BENCHES.has(n))
  if (!names.length && unlisted.length) process.stderr.write(`bench: not in the suite order, run by name if they are benchmarks: ${unlisted.join(', ')}\n`)
  const machineText = machineLine().replace(/^[^;]*; /, '') // the date is already in the section's line
  const ran: Outcome[] = []
  const sections = new Map<string, string>()
  for (const name of wanted) {
    if (skipped.includes(name)) {
      process.stderr.write(`bench: skipping ${name} (no bench/${name}.ts)\n`)
      continue
    }
    process.stderr.write(`bench: running ${name}\n`)
    const o = await runBench(name, timeoutS)
    process.stderr.write(`bench: ${name} ${o.status === 'ok' ? 'done' : 'FAILED'} in ${o.seconds.toFixed(1)} s\n`)
    ran.push(o)
    sections.set(name, section(o, machineText))
  }
  const old = existsSync(out) ? readFileSync(out, 'utf8') : ''
  writeFileSync(out, merge(old, header(command, ran, skipped), sections))
  process.stderr.write(`bench: wrote ${out}\n`)
  process.exitCode = ran.some((o) => o.status === 'failed') ? 1 : 0
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (current) killGroup(current.pid, 'SIGTERM')
    process.exit(130)
  })
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`)
  process.exit(1)
})
