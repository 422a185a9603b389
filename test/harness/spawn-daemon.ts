/**
 * How every test harness starts a daemon (mosquitto, postgres, nats-server, dbus-daemon, socat,
 * prometheus, rabbitmq-server, a long-running `safehouse`): so that it dies with the test process.
 *
 * Why: tap ends a test file that outlives its timeout with SIGKILL. No teardown runs then, and a
 * daemon spawned plainly lives on as an orphan, holding its port and CPU for the rest of the CI run.
 *
 * How: util-linux's `setpriv --pdeathsig SIG -- cmd args` (util-linux is Essential in Debian) sets the
 * kernel's parent-death signal (prctl PR_SET_PDEATHSIG) and then execs the daemon. The kernel sends
 * the daemon SIG when its parent, the test process, dies, however it dies; nothing has to run in the
 * dying process. The daemon keeps setpriv's pid, so proc.pid, proc.kill() and group kills reach the
 * daemon itself, exactly as with a plain spawn. (Wrote it ourselves, not with an npm package: it is one
 * argument list, and the packages that do this (a watchdog process per child, or a native addon) are
 * either heavier or need a build.)
 *
 * What it does not cover:
 *  - The signal reaches the process setpriv became, not its children. A daemon that forks must end its
 *    own children when it gets the signal (postgres's do when the postmaster dies; rabbitmq-server's
 *    script forwards SIGTERM to the Erlang VM, hence `deathSignal: 'SIGTERM'` there).
 *  - The kernel clears the setting when the process execs a set-uid binary or changes its uid. So to
 *    run a daemon as another user pass spawn's uid/gid (applied before setpriv runs), never
 *    `runuser`/`su` in front of the daemon: those fork, and the daemon would be their child.
 *  - A test process killed in the microseconds between the fork and setpriv's prctl leaves the daemon.
 *  - The signal fires when the *thread* that spawned the daemon ends: spawn from the main thread
 *    (every harness does; none runs in a worker thread).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'

export interface DaemonOptions extends SpawnOptions {
  /**
   * What the kernel sends the daemon when the test process dies. SIGKILL by default: it cannot be
   * caught and it also ends a daemon a test froze with SIGSTOP (Mosquitto.pause()), where SIGTERM
   * would stay pending.
   */
  deathSignal?: NodeJS.Signals
}

/**
 * spawn(), except that the daemon dies with this process. A daemon that is not installed makes
 * setpriv exit 127 ("failed to execute ...": on stderr) instead of an 'error' event with ENOENT.
 */
export function spawnDaemon(cmd: string, args: readonly string[], options: DaemonOptions = {}): ChildProcess {
  const { deathSignal = 'SIGKILL', ...rest } = options
  return spawn('setpriv', ['--pdeathsig', deathSignal.replace(/^SIG/, ''), '--', cmd, ...args], rest)
}
