/**
 * The harness's daemons die with their test process (spawn-daemon.ts): a child process starts
 * mosquitto, socat, dbus-daemon and postgres (in the long tier also a 3-node RabbitMQ cluster) through
 * the harness, is SIGKILLed as tap kills a test past its timeout, and every process it had started
 * (postgres's backends, the Erlang VMs and epmd too) is gone within seconds, the port it served closed.
 * Before, each one lived on as an orphan for the rest of the run.
 */
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { canConnect } from './loopback-cluster.js'
import { postgresAvailable } from './postgres.js'
import { longOnly } from './soak-tier.js'

interface Proc { pid: number; ppid: number; start: string; state: string; comm: string }

/** /proc/<pid>/stat: comm may hold spaces and parentheses, so split after its last ')'. */
function stat(pid: number): Proc | null {
  let s: string
  try { s = readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { return null }
  const close = s.lastIndexOf(')')
  const rest = s.slice(close + 2).split(' ')
  return { pid, comm: s.slice(s.indexOf('(') + 1, close), state: rest[0], ppid: Number(rest[1]), start: rest[19] }
}

/** Every descendant of `root` (children, their children, …). */
function descendants(root: number): Proc[] {
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map((d) => stat(Number(d))).filter((p): p is Proc => p !== null)
  const out: Proc[] = []
  const walk = (pid: number) => { for (const p of all) if (p.ppid === pid) { out.push(p); walk(p.pid) } }
  walk(root)
  return out
}

/** Still running: the same process (start time, against pid reuse) and not a zombie waiting to be reaped. */
function alive(p: Proc): boolean {
  const now = stat(p.pid)
  return now !== null && now.start === p.start && now.state !== 'Z'
}

/**
 * Starts the child (spawn-daemon-child.ts) with `kind`, checks that `names` run under it, SIGKILLs it and
 * checks that every process under it is gone within `withinMs`, `port` closed.
 */
async function killedChildLeavesNothing(t: Test, kind: string, names: string[], withinMs: number): Promise<void> {
  const entry = fileURLToPath(new URL('./spawn-daemon-child.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', new URL('./ts-loader.mjs', import.meta.url).href, entry, kind], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const started = await new Promise<{ pid: number; port: number; dirs: string[] }>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)))
    })
    child.once('exit', (code, sig) => reject(new Error(`the child exited (${code ?? sig}) before its daemons ran: ${err}`)))
  })
  t.teardown(() => { for (const d of started.dirs) rmSync(d, { recursive: true, force: true }) })
  const daemons = descendants(started.pid)
  const running = daemons.map((p) => p.comm)
  for (const name of names) t.ok(running.includes(name), `${name} runs under the child`)
  t.notOk(running.includes('setpriv'), 'setpriv replaced itself by the daemon (same pid, nothing in between)')
  t.ok(await canConnect(started.port), `port ${started.port} accepts`)

  const killedAt = Date.now()
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
  while (daemons.some(alive) && Date.now() - killedAt < withinMs) await new Promise((r) => setTimeout(r, 50))
  const left = daemons.filter(alive)
  t.same(left.map((p) => `${p.comm} (${p.pid})`), [], `no process of the child's left ${Date.now() - killedAt} ms after its SIGKILL`)
  t.notOk(await canConnect(started.port), 'the port is closed')
  // Whatever did survive would otherwise hold its port for the rest of the run.
  for (const p of left) try { process.kill(p.pid, 'SIGKILL') } catch { /* gone meanwhile */ }
}

// The kernel signals at once; postgres's immediate shutdown (SIGQUIT) takes its backends down in well
// under a second when idle (all gone in ~0.1 s here). 10 s is the honest bound on a loaded 2-core machine.
t.test('mosquitto, socat, dbus-daemon and postgres die when their test process is SIGKILLed', async (t) => {
  await killedChildLeavesNothing(t, 'basic', ['mosquitto', 'socat', 'dbus-daemon', ...(postgresAvailable() ? ['postgres'] : [])], 10_000)
})

// Three Erlang VMs start in ~20 s: long tier only. rabbitmq-server's script stops its VM on SIGTERM
// (all gone in ~1.7 s here); a clean stop may take longer on a loaded machine, hence 30 s, the harness's
// own bound before it kills a node that does not stop.
t.test('a RabbitMQ cluster and its epmd die when their test process is SIGKILLed', longOnly({ timeout: 180_000 }), async (t) => {
  await killedChildLeavesNothing(t, 'rabbit', ['rabbitmq-server', 'beam.smp', 'epmd'], 30_000)
})
