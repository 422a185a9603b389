/**
 * Child-process entry for test/harness/spawn-daemon.test.ts: a stand-in for a test process that
 * started its daemons through the harness, then is SIGKILLed as tap kills a test past its timeout (no
 * teardown runs: the test removes the dirs). argv[2] says which: `basic` (mosquitto, socat, dbus-daemon
 * and, where installed, postgres) or `rabbit` (a 3-node RabbitMQ cluster and its epmd). Prints
 * `{"pid":…,"port":…,"dirs":[…]}` on one line once they run (port: one they listen on), then waits.
 */
import { Mosquitto } from './mosquitto.js'
import { PtyPair } from './pty-pair.js'
import { PrivateBus } from './bluez-sim-bus.js'
import { Postgres, postgresAvailable } from './postgres.js'
import { RabbitCluster } from './rabbitmq-cluster.js'

let port: number
let dirs: string[]
if (process.argv[2] === 'rabbit') {
  const rabbit = await new RabbitCluster({ nodes: 3 }).start()
  port = rabbit.nodes[0].mqtt
  dirs = [rabbit.dir]
} else {
  const mosquitto = await new Mosquitto().start()
  const pty = await new PtyPair('daemon-test').open()
  const bus = await new PrivateBus().open()
  const pg = postgresAvailable() ? await new Postgres().start() : null
  port = mosquitto.port
  dirs = [mosquitto.dir, pty.dir, bus.dir, ...(pg ? [pg.dir] : [])]
}
process.stdout.write(JSON.stringify({ pid: process.pid, port, dirs }) + '\n')
setInterval(() => {}, 60_000)
