/**
 * sd_notify for `safehouse run` under systemd (the unit from `safehouse
 * install`: Type=notify, WatchdogSec=, NotifyAccess=all). The protocol is one
 * datagram on the AF_UNIX socket named in $NOTIFY_SOCKET, and Node's core has
 * no AF_UNIX datagram sockets (nodejs/node#29339), so each message is handed
 * to systemd's own `systemd-notify` tool; NotifyAccess=all lets systemd take
 * it from our child, and since systemd 246 the tool waits until systemd has
 * it. Messages are rare (ready, a watchdog ping every WatchdogSec/2, stopping).
 *
 * The watchdog ping comes from a timer on the event loop: a gateway whose
 * loop hangs sends nothing, and systemd restarts it (issue 7 §5).
 * Without $NOTIFY_SOCKET (a terminal, the tests, the demo) this does nothing.
 */
import { spawn } from 'node:child_process'
import type { Logger } from 'pino'

type SpawnFn = (cmd: string, args: string[]) => { on(ev: 'error', f: (e: Error) => void): unknown }

export class SystemdNotifier {
  private timer: NodeJS.Timeout | null = null
  private warned = false

  constructor(
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly run: SpawnFn = (cmd, args) => spawn(cmd, args, { stdio: 'ignore' }),
  ) {}

  get enabled(): boolean {
    return !!this.env.NOTIFY_SOCKET
  }

  /** Milliseconds between watchdog pings (half of WatchdogSec), or 0 when systemd wants none. */
  get watchdogIntervalMs(): number {
    const usec = Number(this.env.WATCHDOG_USEC)
    // WATCHDOG_PID, when set, names the process the watchdog is for (sd_watchdog_enabled(3)).
    if (!this.enabled || !(usec > 0) || (this.env.WATCHDOG_PID && Number(this.env.WATCHDOG_PID) !== process.pid)) return 0
    return Math.max(100, Math.floor(usec / 2000))
  }

  /** The gateway is up: systemd counts the service as started, and the watchdog begins. */
  ready(): void {
    this.send('READY=1', `STATUS=relaying alerts`)
    const every = this.watchdogIntervalMs
    if (every && !this.timer) this.timer = setInterval(() => this.send('WATCHDOG=1'), every)
  }

  stopping(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.send('STOPPING=1')
  }

  private send(...assignments: string[]): void {
    if (!this.enabled) return
    this.run('systemd-notify', assignments).on('error', (e) => {
      if (this.warned) return
      this.warned = true
      this.log.error({ err: e.message }, 'systemd-notify could not be run: systemd will think the gateway hung and restart it; install systemd (it ships systemd-notify) or use Type=exec without WatchdogSec=')
    })
  }
}
