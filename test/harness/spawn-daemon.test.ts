/**
 * The harness's daemons die with their test process (spawn-daemon.ts): a child process starts
 * mosquitto, socat, dbus-daemon and postgres through the harness, is SIGKILLed as tap kills a test
 * past its timeout, and every process it had started (postgres's backends too) is gone within a few
 * seconds, mosquitto's port closed. Before, each one lived on as an orphan for the rest of the run.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { canConnect } from './loopback-cluster.js'
import { postgresAvailable } from './postgres.js'

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
function running(p: Proc): boolean {
  const now = stat(p.pid)
  return now !== null && now.start === p.start && now.state !== 'Z'
}

t.test('daemons started through the harness die when their test process is SIGKILLed', async (t) => {
  const entry = fileURLToPath(new URL('./spawn-daemon-child.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', new URL('./ts-loader.mjs', import.meta.url).href, entry], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const started = await new Promise<{ pid: number; mosquittoPort: number; dirs: string[] }>((resolve, reject) => {
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
  const names = daemons.map((p) => p.comm)
  for (const name of ['mosquitto', 'socat', 'dbus-daemon', ...(postgresAvailable() ? ['postgres'] : [])]) t.ok(names.includes(name), `${name} runs under the child`)
  t.notOk(names.includes('setpriv'), 'setpriv replaced itself by the daemon (same pid, nothing in between)')
  t.ok(await canConnect(started.mosquittoPort), 'mosquitto listens')

  const killedAt = Date.now()
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
  // The kernel signals at once; postgres's immediate shutdown (SIGQUIT) takes its backends down in well
  // under a second when idle. 10 s is the honest bound for a loaded 2-core machine.
  while (daemons.some(running) && Date.now() - killedAt < 10_000) await new Promise((r) => setTimeout(r, 50))
  const left = daemons.filter(running)
  t.same(left.map((p) => `${p.comm} (${p.pid})`), [], `no process of the child's left ${Date.now() - killedAt} ms after its SIGKILL`)
  t.notOk(await canConnect(started.mosquittoPort), 'mosquitto\'s port is closed')
  // Whatever did survive would otherwise hold its port for the rest of the run.
  for (const p of left) try { process.kill(p.pid, 'SIGKILL') } catch { /* gone meanwhile */ }
})
