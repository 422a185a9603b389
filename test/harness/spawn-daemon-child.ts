/**
 * Child-process entry for test/harness/spawn-daemon.test.ts: a stand-in for a test process that
 * started its daemons through the harness (mosquitto, socat, dbus-daemon and, where installed,
 * postgres), prints `{"pid":…,"mosquittoPort":…,"dirs":[…]}` on one line when they run, then
 * waits to be SIGKILLed as tap kills a test past its timeout (no teardown runs: the test removes the dirs).
 */
import { Mosquitto } from './mosquitto.js'
import { PtyPair } from './pty-pair.js'
import { PrivateBus } from './bluez-sim-bus.js'
import { Postgres, postgresAvailable } from './postgres.js'

const mosquitto = await new Mosquitto().start()
const pty = await new PtyPair('daemon-test').open()
const bus = await new PrivateBus().open()
const pg = postgresAvailable() ? await new Postgres().start() : null
const dirs = [mosquitto.dir, pty.dir, bus.dir, ...(pg ? [pg.dir] : [])]
process.stdout.write(JSON.stringify({ pid: process.pid, mosquittoPort: mosquitto.port, dirs }) + '\n')
setInterval(() => {}, 60_000)
