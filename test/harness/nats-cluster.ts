/**
 * A real 3-node NATS cluster (Debian's nats-server 2.9) with JetStream and
 * MQTT, as a city's station broker (issue 16 §2), started by the test itself:
 * a temp dir, one config file per node, every port (client, route, MQTT,
 * monitoring) free on loopback. start() returns once every node's MQTT port
 * accepts, every node's /healthz says ok (JetStream has a meta leader) and
 * the MQTT streams exist (one warm-up MQTT session), so a test's first
 * connect is not the one that creates them.
 *
 * Why 3 nodes: NATS MQTT keeps sessions, retained messages and QoS 1
 * deliveries in JetStream streams; clustered, those are R3 Raft groups, so the
 * cluster survives the loss of one node (a quorum of 2 of 3).
 *
 * kill(i) is SIGKILL (a crashed node), stop(i) a clean shutdown, start(i)
 * brings the node back with the same config and store. usage() reads the
 * node's /varz (resident memory, CPU %, connections) for the city bench.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { freePort } from './mosquitto.js'
import { canConnect, LoopbackCluster } from './loopback-cluster.js'
import { spawnDaemon } from './spawn-daemon.js'

export interface NatsUser {
  user: string
  password: string
  /** NATS subjects (MQTT topic a/b/+ is subject a.b.*, # is >). */
  publish?: string[]
  subscribe?: string[]
}

export interface NatsClusterOptions {
  nodes?: number
  /** Per-user permissions; none: anonymous clients may do anything (the contract tests). */
  users?: NatsUser[]
  /** Seconds before a QoS 1 message not PUBACKed is redelivered (NATS default 30). */
  ackWaitS?: number
  /** Extra lines for every node's mqtt {} block. */
  mqttExtra?: string
}

interface Node {
  name: string
  client: number
  route: number
  mqtt: number
  http: number
  proc: ChildProcess | null
  log: string
}

export class NatsCluster extends LoopbackCluster<Node> {
  readonly dir = mkdtempSync(join(tmpdir(), 'safehouse-nats-'))
  /** ms from spawning the first node to ready (the last start()). */
  startupMs = 0

  /**
   * A whole-cluster restart is ready when every node's /healthz says JetStream is current. After a
   * restart NATS 2.9 replays its MQTT streams between the nodes first; on a loaded machine that took
   * more than 30 s once in a full `npm test` run (the '$MQTT_msgs' stream "not current"): 60 s.
   */
  protected readonly restartMs = 60_000

  constructor(private readonly o: NatsClusterOptions = {}) {
    super()
  }

  async start(): Promise<this> {
    const t0 = Date.now()
    const n = this.o.nodes ?? 3
    // Retried on fresh ports when another test took one ("address already in use"; loopback-cluster.ts).
    await this.startOnFreePorts(async () => {
      for (let i = 0; i < n; i++) {
        this.nodes.push({ name: `n${i + 1}`, client: await freePort(), route: await freePort(), mqtt: await freePort(), http: await freePort(), proc: null, log: '' })
      }
      for (let i = 0; i < n; i++) this.writeConfig(i)
      for (let i = 0; i < n; i++) this.spawnNode(i)
      await this.ready(30_000)
    }, () => this.nodes.some((x) => x.log.includes('address already in use')), () => Promise.all(this.nodes.map((_, i) => this.stop(i))).then(() => {}))
    try {
      await this.warmUp()
    } catch (e) {
      await Promise.all(this.nodes.map((_, i) => this.stop(i)))
      throw e
    }
    this.startupMs = Date.now() - t0
    return this
  }

  private writeConfig(i: number): void {
    const node = this.nodes[i]
    const store = join(this.dir, node.name)
    mkdirSync(store, { recursive: true })
    const routes = this.nodes.map((x) => `nats-route://127.0.0.1:${x.route}`).join(', ')
    const users = this.o.users?.length
      ? `authorization {\n  users: [\n${this.o.users.map((u) => `    { user: ${JSON.stringify(u.user)}, password: ${JSON.stringify(u.password)}, permissions: { publish: { allow: ${JSON.stringify(u.publish ?? ['>'])} }, subscribe: { allow: ${JSON.stringify(u.subscribe ?? ['>'])} } } }`).join('\n')}\n  ]\n}\n`
      : ''
    writeFileSync(join(this.dir, `${node.name}.conf`), [
      `server_name: ${node.name}`,
      `listen: 127.0.0.1:${node.client}`,
      `http: 127.0.0.1:${node.http}`,
      // Small reservations: three nodes share a test machine (a real node gets its own disk).
      `jetstream { store_dir: ${JSON.stringify(store)}, max_memory_store: 256MB, max_file_store: 2GB }`,
      `cluster { name: safehouse-city, listen: 127.0.0.1:${node.route}, routes: [${routes}] }`,
      // stream_replicas 3: sessions, retained messages and QoS 1 deliveries survive one node.
      // max_ack_pending: QoS 1 messages out to one subscription before its PUBACKs (a replay burst);
      // a session's subscriptions may total 65535 at most, else SUBACK 0x80: the station service has 8 filters.
      `mqtt { listen: 127.0.0.1:${node.mqtt}, stream_replicas: ${Math.min(3, this.nodes.length)}, ack_wait: "${this.o.ackWaitS ?? 30}s", max_ack_pending: 4096${this.o.mqttExtra ? `, ${this.o.mqttExtra}` : ''} }`,
      users,
    ].join('\n'))
  }

  protected spawnNode(i: number): void {
    const node = this.nodes[i]
    node.log = ''
    const proc = spawnDaemon('nats-server', ['-c', join(this.dir, `${node.name}.conf`)], { stdio: ['ignore', 'pipe', 'pipe'] })
    proc.on('error', () => {})
    const keep = (d: Buffer) => { node.log = (node.log + d.toString()).slice(-20_000) }
    proc.stdout?.on('data', keep)
    proc.stderr?.on('data', keep)
    node.proc = proc
  }

  /** Every running node: MQTT accepts and /healthz is ok (JetStream has a meta leader and is current). */
  async ready(ms: number): Promise<void> {
    const end = Date.now() + ms
    for (;;) {
      const up = this.nodes.filter((x) => x.proc)
      for (const x of up) if (x.proc?.exitCode !== null) throw new Error(`nats-server ${x.name} exited (${x.proc?.exitCode}); is it installed (apt-get install nats-server)? ${x.log}`)
      const ok = await Promise.all(up.map(async (x) => (await canConnect(x.mqtt)) && (await healthy(x.http))))
      if (ok.every(Boolean)) return
      if (Date.now() > end) throw new Error(`NATS cluster not ready within ${ms} ms: ${up.map((x) => `${x.name}: ${x.log.slice(-600)}`).join('\n')}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  /** One MQTT session so the server creates its MQTT streams now (the first connect otherwise takes a second or more). */
  private async warmUp(): Promise<void> {
    const u = this.o.users?.[0]
    const end = Date.now() + 20_000
    for (;;) {
      try {
        const c = await mqtt.connectAsync(this.mqttUrl(0), { protocolVersion: 4, clientId: 'harness-warm-up', clean: true, reconnectPeriod: 0, connectTimeout: 10_000, username: u?.user, password: u?.password })
        await c.endAsync()
        return
      } catch (e) {
        if (Date.now() > end) throw new Error(`NATS cluster: no MQTT session within 20 s: ${(e as Error).message}`)
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  }

  /** SIGKILL node i: a crashed broker node. */
  async kill(i: number): Promise<void> {
    await this.signal(i, 'SIGKILL')
  }

  /** Clean shutdown of node i. */
  async stop(i: number): Promise<void> {
    await this.signal(i, 'SIGTERM')
  }

  private async signal(i: number, sig: NodeJS.Signals): Promise<void> {
    const p = this.nodes[i].proc
    this.nodes[i].proc = null
    if (!p || p.exitCode !== null) return
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve())
      p.kill(sig)
    })
  }

  /** Bring node i back (same config and store) and wait until the whole cluster is healthy again. */
  async restart(i: number, ms = 30_000): Promise<void> {
    if (this.nodes[i].proc) return
    this.spawnNode(i)
    await this.ready(ms)
  }

  /** Resident memory (bytes), CPU % (as nats-server reports it) and connections of node i, from /varz. */
  async usage(i: number): Promise<{ mem: number; cpu: number; connections: number } | null> {
    try {
      const r = await fetch(`http://127.0.0.1:${this.nodes[i].http}/varz`, { signal: AbortSignal.timeout(2000) })
      const v = (await r.json()) as { mem: number; cpu: number; connections: number }
      return { mem: v.mem, cpu: v.cpu, connections: v.connections }
    } catch {
      return null
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((_, i) => this.stop(i)))
    rmSync(this.dir, { recursive: true, force: true })
  }
}

async function healthy(port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) })
    return r.ok && ((await r.json()) as { status?: string }).status === 'ok'
  } catch {
    return false
  }
}


/**
 * Diagnosis for a post that stopped receiving QoS 1 messages (docs/city.md, issue 16): its MQTT
 * connection's subscriptions on every running node (/connz) and, for each `$MQTT.sub.*` delivery
 * subject, the JetStream consumer that delivers to it (/jsz): leader, delivered, ack floor, pending.
 */
export async function diagnoseMqttClient(c: NatsCluster, clientId: string): Promise<unknown> {
  const out: Record<string, unknown> = { clientId }
  const live = c.nodes.map((n, i) => ({ n, i })).filter((x) => c.pid(x.i))
  const deliver = new Set<string>()
  for (const { n } of live) {
    try {
      const r = (await (await fetch(`http://127.0.0.1:${n.http}/connz?subs=detail&mqtt_client=${encodeURIComponent(clientId)}`, { signal: AbortSignal.timeout(5000) })).json()) as { connections?: Array<{ cid: number; subscriptions_list_detail?: Array<{ subject: string; msgs: number }>; in_msgs: number; out_msgs: number }> }
      for (const conn of r.connections ?? []) {
        out[`conn@${n.name}`] = { cid: conn.cid, in: conn.in_msgs, out: conn.out_msgs, subs: conn.subscriptions_list_detail?.map((s) => `${s.subject} (${s.msgs})`) }
        for (const s of conn.subscriptions_list_detail ?? []) if (s.subject.startsWith('$MQTT.sub.')) deliver.add(s.subject)
      }
    } catch (e) { out[`conn@${n.name}`] = `error ${(e as Error).message}` }
  }
  const n0 = live[0]?.n
  if (!n0) return out
  try {
    const j = (await (await fetch(`http://127.0.0.1:${n0.http}/jsz?consumers=1&accounts=1`, { signal: AbortSignal.timeout(10_000) })).json()) as { account_details?: Array<{ stream_detail?: Array<{ name: string; consumer_detail?: Array<{ name: string; config?: { deliver_subject?: string; filter_subject?: string }; delivered: { consumer_seq: number; stream_seq: number }; ack_floor: { consumer_seq: number; stream_seq: number }; num_ack_pending: number; num_redelivered: number; num_pending: number; push_bound?: boolean; cluster?: { leader?: string } }> }> }> }
    const cons = (j.account_details ?? []).flatMap((a) => a.stream_detail ?? []).flatMap((s) => (s.consumer_detail ?? []).map((cd) => ({ stream: s.name, ...cd })))
    const post = clientId.replace(/^safehouse-[^-]+-/, '')
    out.consumers = cons.filter((cd) => deliver.has(cd.config?.deliver_subject ?? '') || (cd.config?.filter_subject ?? '').includes(post)).map((cd) => ({
      stream: cd.stream, name: cd.name, filter: cd.config?.filter_subject, deliver: cd.config?.deliver_subject, boundToLiveSub: deliver.has(cd.config?.deliver_subject ?? ''),
      leader: cd.cluster?.leader, delivered: cd.delivered.consumer_seq, ackFloor: cd.ack_floor.consumer_seq, ackPending: cd.num_ack_pending, redelivered: cd.num_redelivered, pending: cd.num_pending, pushBound: cd.push_bound,
    }))
  } catch (e) { out.consumers = `error ${(e as Error).message}` }
  return out
}
