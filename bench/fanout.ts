/**
 * Fan-out at 100 subscribers (issue 13 §4): broker CPU per delivery and
 * publish -> delivery latency, the embedded broker (the gateway's real
 * EmbeddedBroker in a child: bench/fanout-broker.ts) against mosquitto with
 * the same logins and ACL (password_file, acl_file, set_tcp_nodelay), rounds
 * alternating in one run. The clients (bench/fanout-clients.ts: SUBS
 * subscribers and a publisher) run in a third process.
 * CPU = utime + stime of the broker process from /proc/PID/stat between the
 * clients' "ready" (after a warm-up burst) and their result; per delivery =
 * that / deliveries. Target: CPU <= 1.2x mosquitto, p99 <= 1.5x (medians of rounds).
 *
 *   node --import tsx bench/fanout.ts [--rounds=4] [--subs=100] [--messages=500] [--rate=100] [--qos=1] [--baseline=DIR]
 *
 * --baseline=DIR adds a third broker to the same rounds: the embedded broker of another checkout
 * (e.g. `git archive` of an earlier commit, with node_modules linked), for a before/after in one run.
 * --floor adds bench/fanout-floor.ts: Node's net.Socket with the same writes and reads and no broker
 * behind them, the floor any broker on net.Socket starts from.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { connect } from 'node:net'
import { freePort } from '../test/harness/mosquitto.js'
import { load1, machineLine, median, ms } from './bench-stats.js'
import { FANOUT_PUBLISHER, FANOUT_ROOT, FANOUT_SUBSCRIBERS, FANOUT_USERS } from './fanout-shared.js'

const arg = (name: string, dflt: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt)
const ROUNDS = arg('rounds', 4)
const SUBS = arg('subs', 100)
const MESSAGES = arg('messages', 500)
const RATE = arg('rate', 100)
const QOS = arg('qos', 1)
const BASELINE = process.argv.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length) ?? null
const FLOOR = process.argv.includes('--floor')
type Who = 'embedded' | 'mosquitto' | 'baseline' | 'floor'
const WHO: readonly Who[] = ['embedded', 'mosquitto', ...(BASELINE ? ['baseline' as const] : []), ...(FLOOR ? ['floor' as const] : [])]
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url))
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim() || 100)

/** utime and stime of a process, ms. */
function cpuMs(pid: number): { user: number; sys: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return { user: Number(f[11]) * TICK_MS, sys: Number(f[12]) * TICK_MS } // fields 14 and 15, counted from field 3
}

function waitLine(child: ChildProcess, want: (line: string) => boolean, what: string): Promise<string> {
  return new Promise((res, rej) => {
    const rl = createInterface({ input: child.stdout! })
    const onExit = (code: number | null) => rej(new Error(`${what}: exited ${code} first`))
    child.once('exit', onExit)
    rl.on('line', (l) => { if (want(l)) { rl.close(); child.off('exit', onExit); res(l) } })
  })
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => { s.destroy(); res(true) })
    s.once('error', () => res(false))
  })
}

const dir = mkdtempSync(join(tmpdir(), 'safehouse-bench-fanout-'))
function mosquittoConf(port: number): string {
  const pw = join(dir, 'passwd')
  writeFileSync(pw, '')
  for (const u of FANOUT_USERS) spawnSync('mosquitto_passwd', ['-b', pw, u.username, u.password], { stdio: 'ignore' })
  const acl = join(dir, 'acl')
  writeFileSync(acl, [`user ${FANOUT_PUBLISHER.username}`, `topic write ${FANOUT_ROOT}/cmd/+`, `topic write ${FANOUT_ROOT}/ack`, '',
    ...FANOUT_SUBSCRIBERS.flatMap((u) => [`user ${u.username}`, `topic write ${FANOUT_ROOT}/cmd/+`, `topic read ${FANOUT_ROOT}/#`, ''])].join('\n'))
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(conf, `user root\nlistener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${pw}\nacl_file ${acl}\npersistence false\nset_tcp_nodelay true\nlog_type error\nlog_type warning\nmax_queued_messages 1000\n`)
  return conf
}

async function startBroker(who: Who, port: number): Promise<ChildProcess> {
  if (who === 'mosquitto') {
    const child = spawn('mosquitto', ['-c', mosquittoConf(port)], { stdio: ['ignore', 'ignore', 'ignore'] })
    for (let t0 = Date.now(); !(await canConnect(port));) {
      if (child.exitCode !== null || Date.now() - t0 > 10_000) throw new Error('mosquitto did not start')
      await new Promise((r) => setTimeout(r, 20))
    }
    return child
  }
  const child = who === 'floor'
    ? spawn(process.execPath, ['--import', 'tsx', here('./fanout-floor.ts'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] })
    : who === 'baseline'
    ? spawn(process.execPath, ['--import', 'tsx', join(BASELINE!, 'bench/fanout-broker.ts'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'], cwd: BASELINE! })
    : spawn(process.execPath, ['--import', 'tsx', here('./fanout-broker.ts'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] })
  await waitLine(child, (l) => l === 'listening', 'embedded broker')
  return child
}

interface Round { who: string; cpuPerDeliveryUs: number; userUs: number; sysUs: number; p50: number; p99: number; p999: number; delivered: number; expected: number; load: string }

async function round(who: Who): Promise<Round> {
  const port = await freePort()
  const broker = await startBroker(who, port)
  const clients = spawn(process.execPath, ['--import', 'tsx', here('./fanout-clients.ts'), String(port), String(SUBS), String(MESSAGES), String(RATE), String(QOS)], { stdio: ['pipe', 'pipe', 'inherit'] })
  try {
    await waitLine(clients, (l) => l === 'ready', 'clients')
    const cpu0 = cpuMs(broker.pid!)
    const result = waitLine(clients, (l) => l.startsWith('{'), 'clients')
    clients.stdin!.write('go\n')
    const r = JSON.parse(await result) as { delivered: number; expected: number; p50: number; p99: number; p999: number }
    const cpu1 = cpuMs(broker.pid!)
    const user = cpu1.user - cpu0.user
    const sys = cpu1.sys - cpu0.sys
    return { who, cpuPerDeliveryUs: ((user + sys) * 1000) / r.delivered, userUs: (user * 1000) / r.delivered, sysUs: (sys * 1000) / r.delivered, p50: r.p50, p99: r.p99, p999: r.p999, delivered: r.delivered, expected: r.expected, load: load1() }
  } finally {
    clients.kill()
    broker.kill('SIGTERM')
    await new Promise((r) => (broker.exitCode !== null ? r(null) : broker.once('exit', r)))
  }
}

const started = new Date()
const loadBefore = load1()
const rounds: Round[] = []
for (let i = 0; i < ROUNDS; i++) {
  // Rotated, so each broker runs first, second (and third) in turn.
  const order = WHO.map((_, k) => WHO[(k + i) % WHO.length])
  for (const who of order) {
    const r = await round(who)
    rounds.push(r)
    process.stderr.write(`[fanout] round ${i + 1} ${who}: ${r.cpuPerDeliveryUs.toFixed(1)} µs CPU/delivery (user ${r.userUs.toFixed(1)}, sys ${r.sysUs.toFixed(1)}), p50 ${ms(r.p50)} p99 ${ms(r.p99)} ms, ${r.delivered}/${r.expected}, load ${r.load}\n`)
  }
}
const loadAfter = load1()
rmSync(dir, { recursive: true, force: true })

const of = (who: string) => rounds.filter((r) => r.who === who)
const med = (who: string, k: 'cpuPerDeliveryUs' | 'userUs' | 'sysUs' | 'p50' | 'p99' | 'p999') => median(of(who).map((r) => r[k]))
const ratio = (k: 'cpuPerDeliveryUs' | 'p50' | 'p99' | 'p999', who: Who = 'embedded') => (med(who, k) / med('mosquitto', k)).toFixed(2)
const label: Record<Who, string> = { embedded: 'embedded (aedes, gateway hooks)', mosquitto: 'mosquitto 2.0', baseline: `embedded, baseline checkout (${BASELINE})`, floor: 'floor: bare Node net.Socket, no broker (bench/fanout-floor.ts)' }
const lost = rounds.filter((r) => r.delivered !== r.expected)
console.log([
  '## Fan-out at 100 subscribers: embedded broker vs mosquitto (bench/fanout.ts, issue 13 §4)',
  '',
  `${machineLine(started)}; load ${loadBefore} before, ${loadAfter} after. Command: \`node --import tsx bench/fanout.ts --rounds=${ROUNDS} --subs=${SUBS} --messages=${MESSAGES} --rate=${RATE} --qos=${QOS}${BASELINE ? ` --baseline=${BASELINE}` : ''}${FLOOR ? ' --floor' : ''}\`.`,
  `${SUBS} subscribers (QoS ${QOS}, 4 technician logins) and one publisher (station login, ${MESSAGES} publishes of 256 B at ${RATE}/s after a warm-up) in one client process;`,
  'each broker alone in its own process with logins and an ACL (mosquitto: password_file, acl_file, set_tcp_nodelay). Broker CPU from /proc/PID/stat (10 ms ticks).',
  `Medians over ${ROUNDS} rounds per broker, rotating which runs first.`,
  '',
  '| broker | CPU µs / delivery | of which user / kernel | p50 ms | p99 ms | p99.9 ms | rounds (CPU µs; p99 ms) |',
  '|---|---:|---:|---:|---:|---:|---|',
  ...WHO.map((w) => `| ${label[w]} | ${med(w, 'cpuPerDeliveryUs').toFixed(1)} | ${med(w, 'userUs').toFixed(1)} / ${med(w, 'sysUs').toFixed(1)} | ${ms(med(w, 'p50'))} | ${ms(med(w, 'p99'))} | ${ms(med(w, 'p999'))} | ${of(w).map((r) => `${r.cpuPerDeliveryUs.toFixed(1)}; ${ms(r.p99)}`).join(' / ')} |`),
  '',
  `Ratios embedded / mosquitto: CPU per delivery **${ratio('cpuPerDeliveryUs')}x** (target <= 1.2x), p50 ${ratio('p50')}x, p99 **${ratio('p99')}x** (target <= 1.5x).`,
  ...(BASELINE ? [`Baseline / mosquitto in the same run: CPU per delivery ${ratio('cpuPerDeliveryUs', 'baseline')}x, p99 ${ratio('p99', 'baseline')}x.`] : []),
  ...(FLOOR ? [`Floor / mosquitto in the same run: CPU per delivery ${ratio('cpuPerDeliveryUs', 'floor')}x; embedded / floor ${(med('embedded', 'cpuPerDeliveryUs') / med('floor', 'cpuPerDeliveryUs')).toFixed(2)}x.`] : []),
  lost.length ? `Rounds with missing deliveries: ${lost.map((r) => `${r.who} ${r.delivered}/${r.expected}`).join(', ')}.` : 'Every round delivered every message to every subscriber.',
].join('\n'))
