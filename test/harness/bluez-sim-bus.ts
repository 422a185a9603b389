/**
 * A private `dbus-daemon` for real-stack BlueZ tests (DESIGN §4: "the BlueZ
 * client against an org.bluez service on a private dbus-daemon").
 *
 * The daemon is started by the test itself with a generated config: it listens
 * on a unix socket in a fresh temp dir and allows everything (own any name,
 * send to anyone) unless `denyBluezFor` asks for the policy a technician gets
 * wrong on a real Pi (so the driver's "permission denied" message is testable).
 * The address is handed to the driver explicitly (HwBluezOptions.busAddress),
 * so tests never touch process.env.
 *
 * close() kills the daemon and removes the temp dir; call it from t.teardown.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnDaemon } from './spawn-daemon.js'

export interface PrivateBusOptions {
  /** Deny `send_destination="org.bluez"` to everyone (simulates a missing D-Bus policy file). */
  denyBluez?: boolean
}

export class PrivateBus {
  readonly dir: string
  readonly socket: string
  /** Full D-Bus address, e.g. "unix:path=/tmp/safehouse-dbus-x/bus,guid=...". */
  address = ''
  private proc: ChildProcess | null = null

  constructor(private readonly options: PrivateBusOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'safehouse-dbus-'))
    this.socket = join(this.dir, 'bus')
  }

  /** Start dbus-daemon and wait for the address it prints. */
  async open(timeoutMs = 10_000): Promise<this> {
    const configFile = join(this.dir, 'bus.conf')
    // Same default limits as the system bus; only the policy is wide open.
    writeFileSync(configFile, privateBusConfig(this.socket, { denyBluez: this.options.denyBluez }))
    const proc = spawnDaemon('dbus-daemon', ['--config-file=' + configFile, '--print-address=1', '--nofork', '--nopidfile'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.proc = proc
    let stdout = ''
    let stderr = ''
    proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    // On a reopen (after kill()) the socket path, hence the address minus guid, is the same.
    this.address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dbus-daemon printed no address within ${timeoutMs} ms: ${stderr.trim()}`)), timeoutMs)
      proc.on('error', (e) => { clearTimeout(timer); reject(new Error(`cannot start dbus-daemon: ${e.message} — is it installed? (apt-get install dbus-daemon)`)) })
      proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`dbus-daemon exited (${code}): ${stderr.trim()}`)) })
      proc.stdout?.on('data', (d: Buffer) => {
        stdout += d.toString()
        const nl = stdout.indexOf('\n')
        if (nl >= 0) { clearTimeout(timer); resolve(stdout.slice(0, nl).trim()) }
      })
    })
    return this
  }

  /** Kill the daemon: every connection on it sees the bus vanish (like `systemctl restart dbus`). */
  async kill(): Promise<void> {
    const p = this.proc
    this.proc = null
    if (p && p.exitCode === null && p.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { p.kill('SIGKILL') }, 2000)
        p.once('exit', () => { clearTimeout(timer); resolve() })
        p.kill('SIGTERM')
      })
    }
    rmSync(this.socket, { force: true })
  }

  /** Kill the daemon and remove the temp dir. */
  async close(): Promise<void> {
    await this.kill()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/**
 * A system-type bus configuration with the system bus's default limits and a wide-open
 * policy: optionally no calls to org.bluez, and an <include> of a policy file under test
 * (the D-Bus policy `safehouse install` writes).
 */
export function privateBusConfig(socket: string, o: { denyBluez?: boolean; include?: string } = {}): string {
  const deny = o.denyBluez ? '\n    <deny send_destination="org.bluez"/>' : ''
  const include = o.include ? `\n  <include>${o.include}</include>` : ''
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_requested_reply="true" receive_type="method_return"/>
    <allow receive_requested_reply="true" receive_type="error"/>${deny}
  </policy>${include}
</busconfig>
`
}
