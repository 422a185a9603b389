/**
 * A real 3-node RabbitMQ cluster (Debian's rabbitmq-server 3.10) with the
 * MQTT plugin, as a city's station broker (issue 16 §2: the alternative when
 * NATS falls short), started by the test itself on loopback: one temp dir,
 * per node its own RABBITMQ_NODENAME, AMQP / distribution / MQTT ports and
 * data dir, one epmd per cluster on its own port (never the machine's 4369),
 * one Erlang cookie (HOME is the temp dir). Management is off.
 *
 * Clustering: node 1 starts alone; nodes 2 and 3 start with classic-config
 * peer discovery naming node 1 and join it. Users come from a definitions
 * file node 1 imports at boot (one user per post when `users` is given).
 * QoS 1 sessions with clean session false are quorum queues
 * (`mqtt.durable_queue_type = quorum`, 3.10+), so a session's queue survives
 * the loss of one node (2 of 3). What RabbitMQ 3.10's MQTT does NOT give
 * (retained messages are node-local, none for wildcard filters; MQTT 3.1.1
 * only) is in docs/city.md.
 *
 * kill(i) is SIGKILL of the node's process group (script and Erlang VM), stop(i) SIGTERM, restart(i)
 * the same node again (it rejoins with its data dir).
 */
import { execFile, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './mosquitto.js'
import { canConnect, LoopbackCluster } from './loopback-cluster.js'
import { spawnDaemon } from './spawn-daemon.js'

const RABBIT_BIN = '/usr/lib/rabbitmq/bin'

/**
 * The Erlang VM's flags for three nodes on one shared 2-core machine (docs/city.md "Erlang flags";
 * measured in bench/RESULTS.md "Issue 16 (helper i16s)"). RabbitMQ's defaults are for a node that
 * has its host to itself: `+sbwt none +sbwtdcpu none +sbwtdio none` stop idle schedulers (and the
 * ten dirty I/O threads) from spinning for work (msacc: 18 % of each scheduler and 11 % of each dirty
 * I/O thread were busy-waiting, ~2 % without), CPU the other nodes and the Node processes need;
 * `+S 2:2` two schedulers per node (`+S 1:1` was worse: posts flapped before the kill). Scheduler
 * binding stays RabbitMQ's `+stbt db`: unbound (`u`) kept every post connected until the kill but
 * collapsed after it in both 1,000-post runs, `db` stored every alert in its one. The rest is RabbitMQ's own.
 */
const ERL_ARGS = '+P 1048576 +t 5000000 +stbt db +zdbbl 128000 +S 2:2 +sbwt none +sbwtdcpu none +sbwtdio none'

export interface RabbitUser {
  user: string
  password: string
  /** Regexps on resource names (queues, exchanges) in vhost `/`; default: everything. */
  configure?: string
  write?: string
  read?: string
  /** Topic permissions on amq.topic: regexps on routing keys (MQTT a/b is routing key a.b); default: everything. */
  topicWrite?: string
  topicRead?: string
}

export interface RabbitClusterOptions {
  nodes?: number
  /** None: anonymous MQTT clients are `guest` (everything; the contract tests). */
  users?: RabbitUser[]
}

interface Node {
  name: string
  amqp: number
  dist: number
  mqtt: number
  proc: ChildProcess | null
  log: string
}

/** A command's stdout ('' when it fails), without blocking the event loop. */
export function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => execFile(cmd, args, { encoding: 'utf8', timeout: 10_000 }, (_e, out) => resolve(out ?? '')))
}

/** rabbit_password_hashing_sha256: base64(salt ++ sha256(salt ++ password)), 4-byte salt. */
export function rabbitPasswordHash(password: string): string {
  const salt = randomBytes(4)
  return Buffer.concat([salt, createHash('sha256').update(Buffer.concat([salt, Buffer.from(password, 'utf8')])).digest()]).toString('base64')
}

/**
 * rabbitmq.conf lines with `key = value` overrides (`;`-separated, from SAFEHOUSE_RABBIT_CONF: for
 * measuring a setting without editing the harness): an override replaces the line with its key.
 */
export function withOverrides(lines: string[], overrides = ''): string[] {
  const extra = overrides.split(';').map((l) => l.trim()).filter(Boolean)
  const key = (l: string) => l.split('=')[0].trim()
  const keys = new Set(extra.map(key))
  return [...lines.filter((l) => !keys.has(key(l))), ...extra]
}

export class RabbitCluster extends LoopbackCluster<Node> {
  readonly dir = mkdtempSync(join(tmpdir(), 'safehouse-rabbit-'))
  private epmd = 0
  /** The cluster's epmd, started here (spawn-daemon.ts) so it dies with the test process too. */
  private epmdProc: ChildProcess | null = null
  private readonly tag = `${process.pid}${randomBytes(2).toString('hex')}`
  startupMs = 0

  protected readonly restartMs = 300_000

  constructor(private readonly o: RabbitClusterOptions = {}) {
    super()
  }

  async start(): Promise<this> {
    const t0 = Date.now()
    const n = this.o.nodes ?? 3
    writeFileSync(join(this.dir, '.erlang.cookie'), randomBytes(16).toString('hex'))
    chmodSync(join(this.dir, '.erlang.cookie'), 0o400)
    writeFileSync(join(this.dir, 'enabled_plugins'), '[rabbitmq_mqtt].\n')
    writeFileSync(join(this.dir, 'definitions.json'), JSON.stringify(this.definitions()))
    // Retried on fresh ports when another test took one ('eaddrinuse'; loopback-cluster.ts).
    try {
      await this.startOnFreePorts(async () => {
        this.epmd = await freePort()
        await this.startEpmd()
        for (let i = 0; i < n; i++) this.nodes.push({ name: `sh${this.tag}n${i + 1}@localhost`, amqp: await freePort(), dist: await freePort(), mqtt: await freePort(), proc: null, log: '' })
        for (let i = 0; i < n; i++) this.writeConfig(i)
        this.spawnNode(0)
        await this.readyNode(0, 120_000)
        for (let i = 1; i < n; i++) this.spawnNode(i)
        await Promise.all(this.nodes.slice(1).map((_, k) => this.readyNode(k + 1, 120_000)))
        const running = await this.runningNodesWhenBooted()
        if (running.length !== n) throw new Error(`RabbitMQ cluster formed with ${running.length} of ${n} nodes: ${running.join(', ')}`)
      }, () => this.epmdTaken || this.nodes.some((x) => /eaddrinuse|address already in use/i.test(x.log)), async () => { await super.stopAll(); await this.killEpmd() })
    } catch (e) {
      await this.killEpmd()
      throw e
    }
    this.startupMs = Date.now() - t0
    return this
  }

  private definitions(): unknown {
    // Importing definitions at boot skips the default user: anonymous MQTT clients need `guest` listed.
    const users = this.o.users?.length ? this.o.users : [{ user: 'guest', password: 'guest' }]
    return {
      vhosts: [{ name: '/' }],
      users: users.map((u) => ({ name: u.user, password_hash: rabbitPasswordHash(u.password), hashing_algorithm: 'rabbit_password_hashing_sha256', tags: [] })),
      permissions: users.map((u) => ({ user: u.user, vhost: '/', configure: u.configure ?? '.*', write: u.write ?? '.*', read: u.read ?? '.*' })),
      topic_permissions: users.map((u) => ({ user: u.user, vhost: '/', exchange: 'amq.topic', write: u.topicWrite ?? '.*', read: u.topicRead ?? '.*' })),
    }
  }

  private writeConfig(i: number): void {
    const node = this.nodes[i]
    const home = join(this.dir, `n${i + 1}`)
    mkdirSync(home, { recursive: true })
    const lines = [
      `listeners.tcp.default = 127.0.0.1:${node.amqp}`,
      `mqtt.listeners.tcp.default = 127.0.0.1:${node.mqtt}`,
      // clean session false -> a quorum queue (Raft, 3 replicas): the session's QoS 1 messages survive a node.
      'mqtt.durable_queue_type = quorum',
      `mqtt.allow_anonymous = ${this.o.users?.length ? 'false' : 'true'}`,
      'mqtt.default_user = guest',
      'mqtt.default_pass = guest',
      'loopback_users = none',
      'mqtt.vhost = /',
      'mqtt.exchange = amq.topic',
      // Retained messages in memory (ets), not a dets file per node: every post's state is retained
      // (2,100 posts x 11 per 30 s); node-local either way, and republished by the posts every 30 s.
      'mqtt.retained_message_store = rabbit_mqtt_retained_msg_store_ets',
      // The station service subscribes 8 filters and may take a replay burst (docs/protocol.md: 500 in flight).
      'mqtt.prefetch = 1000',
      'log.console = true',
      `log.console.level = ${process.env.SAFEHOUSE_RABBIT_LOG ?? 'warning'}`,
      'log.file = false',
      // A test machine's disk is shared: do not refuse publishers because another test filled /tmp.
      'disk_free_limit.absolute = 50MB',
      'vm_memory_high_watermark.relative = 0.8',
    ]
    if (i === 0) lines.push(`definitions.import_backend = local_filesystem`, `definitions.local.path = ${join(this.dir, 'definitions.json')}`)
    else lines.push('cluster_formation.peer_discovery_backend = classic_config', `cluster_formation.classic_config.nodes.1 = ${this.nodes[0].name}`)
    writeFileSync(join(home, 'rabbitmq.conf'), withOverrides(lines, process.env.SAFEHOUSE_RABBIT_CONF).join('\n') + '\n')
  }

  private env(i: number): NodeJS.ProcessEnv {
    const node = this.nodes[i]
    const home = join(this.dir, `n${i + 1}`)
    return {
      PATH: process.env.PATH, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8',
      HOME: this.dir, // the cluster's Erlang cookie
      ERL_EPMD_PORT: String(this.epmd),
      RABBITMQ_NODENAME: node.name,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(node.amqp),
      RABBITMQ_DIST_PORT: String(node.dist),
      RABBITMQ_CONFIG_FILE: join(home, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: join(home, 'mnesia'),
      RABBITMQ_LOG_BASE: join(home, 'log'),
      RABBITMQ_PID_FILE: join(home, 'pid'),
      RABBITMQ_LOGS: '-',
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
      RABBITMQ_SERVER_ERL_ARGS: process.env.SAFEHOUSE_RABBIT_ERL_ARGS ?? ERL_ARGS,
    }
  }

  protected spawnNode(i: number): void {
    const node = this.nodes[i]
    node.log = ''
    // detached: its own process group, so kill() reaches the Erlang VM and its port programs.
    // Dies with the test process by SIGTERM: the script's trap passes it on to the VM (SIGKILL would end
    // the script alone and leave the VM running).
    const proc = spawnDaemon(join(RABBIT_BIN, 'rabbitmq-server'), [], { env: this.env(i), stdio: ['ignore', 'pipe', 'pipe'], detached: true, deathSignal: 'SIGTERM' })
    proc.on('error', (e) => { node.log += `spawn error: ${e.message}` })
    const keep = (d: Buffer) => { node.log = (node.log + d.toString()).slice(-20_000) }
    proc.stdout?.on('data', keep)
    proc.stderr?.on('data', keep)
    node.proc = proc
  }

  /** Node i's MQTT listener accepts (the plugin starts last in the boot). */
  private async readyNode(i: number, ms: number): Promise<void> {
    const end = Date.now() + ms
    const x = this.nodes[i]
    for (;;) {
      if (!x.proc || x.proc.exitCode !== null) throw new Error(`rabbitmq-server ${x.name} exited (${x.proc?.exitCode}); is it installed (apt-get install rabbitmq-server)? ${x.log.slice(-3000)}`)
      if (await canConnect(x.mqtt)) return
      if (Date.now() > end) throw new Error(`RabbitMQ node ${x.name} not ready within ${ms} ms: ${x.log.slice(-3000)}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  /** Every running node's MQTT accepts. */
  async ready(ms = 120_000): Promise<void> {
    await Promise.all(this.nodes.map((x, i) => (x.proc ? this.readyNode(i, ms) : null)))
  }

  /** rabbitmqctl against node i (an Erlang VM per call: ~1-2 s; for set-up and diagnosis only). */
  ctl(i: number, args: string[]): { status: number | null; out: string } {
    const r = spawnSync(join(RABBIT_BIN, 'rabbitmqctl'), ['-n', this.nodes[i].name, ...args], { env: this.env(i), encoding: 'utf8', timeout: 60_000 })
    return { status: r.status, out: `${r.stdout}${r.stderr}` }
  }

  /** Running cluster members as node i (default: the first running node) sees them. */
  runningNodes(i = this.nodes.findIndex((x) => x.proc)): string[] {
    const r = this.ctl(i, ['cluster_status', '--formatter', 'json'])
    try {
      return (JSON.parse(r.out.slice(r.out.indexOf('{'))) as { running_nodes: string[] }).running_nodes
    } catch {
      throw new Error(`rabbitmqctl cluster_status failed: ${r.out.slice(-1000)}`)
    }
  }

  /**
   * runningNodes() once the rabbit app says it runs: the MQTT listener opens before the node's boot
   * has finished (seen with 2,100 users imported at boot: "this command requires the 'rabbit' app to
   * be running"), so a node that accepts MQTT may still refuse the query for a few seconds.
   */
  private async runningNodesWhenBooted(ms = 120_000): Promise<string[]> {
    const end = Date.now() + ms
    for (;;) {
      try {
        return this.runningNodes()
      } catch (e) {
        if (Date.now() > end || !/'rabbit' app to be running/.test(String(e))) throw e
        await new Promise((r) => setTimeout(r, 2000))
      }
    }
  }

  async kill(i: number): Promise<void> {
    await this.signal(i, 'SIGKILL')
  }

  async stop(i: number): Promise<void> {
    await this.signal(i, 'SIGTERM')
  }

  private async signal(i: number, sig: NodeJS.Signals): Promise<void> {
    const p = this.nodes[i].proc
    this.nodes[i].proc = null
    if (!p || p.exitCode !== null || p.signalCode !== null || !p.pid) return
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()))
    try { process.kill(-p.pid, sig) } catch { return }
    // A clean stop that hangs (a node waiting for its peers) is ended after 30 s.
    const t = setTimeout(() => { try { process.kill(-p.pid!, 'SIGKILL') } catch { /* gone */ } }, sig === 'SIGKILL' ? 0 : 30_000)
    await exited
    clearTimeout(t)
  }

  /**
   * The whole cluster down the way RabbitMQ's clustering guide says to ("Restarting cluster nodes"):
   * one node after the other, node 1 last, so node 1 knows it stopped last and may boot first.
   */
  override async stopAll(): Promise<void> {
    for (let i = this.nodes.length - 1; i >= 0; i--) await this.stop(i)
  }

  /**
   * Every stopped node back: node 1 (the last one stopped, stopAll) first, until it serves, then the
   * others together, as they formed the cluster at start. Measured here (docs/city.md "Whole-cluster
   * restart"): 110-135 s until all three serve, nodes 2 and 3 stalling 70-100 s at the boot step that
   * creates `rabbit_node_maintenance_states`; node 1 answers CONNACK "Server unavailable" meanwhile.
   * Started together after stopping together it was the same (110 s once, over 120 s once), hence
   * restartMs 300 s.
   */
  override async startAll(ms = this.restartMs): Promise<void> {
    if (!this.nodes[0].proc) {
      this.spawnNode(0)
      await this.readyNode(0, ms)
    }
    this.nodes.forEach((x, i) => { if (!x.proc) this.spawnNode(i) })
    await this.ready(ms)
  }

  async restart(i: number, ms = 120_000): Promise<void> {
    if (this.nodes[i].proc) return
    this.spawnNode(i)
    await this.readyNode(i, ms)
  }

  /**
   * Resident memory of node i's Erlang VM (bytes, from ps) and its CPU seconds; null when down.
   * Asynchronous: the city run samples every 2 s from the process that also runs 2,100 posts, and
   * spawnSync of pgrep / ps blocked its event loop (up to 14 s on the loaded machine), long enough
   * for the posts' own 8 s keepalive timers to fire (bench/RESULTS.md "Issue 16 (helper i16s)").
   */
  async usage(i: number): Promise<{ mem: number; cpuS: number } | null> {
    const group = this.nodes[i].proc?.pid
    if (!group) return null
    // The spawned pid is the rabbitmq-server script; the VM (beam.smp) is in its process group.
    const pid = (await run('pgrep', ['-g', String(group), 'beam.smp'])).trim().split('\n')[0]
    if (!pid) return null
    const m = /(\d+)\s+(?:(\d+)-)?(\d+):(\d+):(\d+)/.exec(await run('ps', ['-o', 'rss=,time=', '-p', pid]))
    if (!m) return null
    return { mem: Number(m[1]) * 1024, cpuS: Number(m[2] ?? 0) * 86400 + Number(m[3]) * 3600 + Number(m[4]) * 60 + Number(m[5]) }
  }

  private epmdTaken = false

  /**
   * The cluster's epmd in the foreground, before any node: a node finds it on ERL_EPMD_PORT and does not
   * start its own. One a node starts is a daemon (`epmd -daemon`, reparented to init), so it outlived a
   * test process that tap SIGKILLed; this one is ours and dies with us (spawn-daemon.ts).
   */
  private async startEpmd(): Promise<void> {
    this.epmdTaken = false
    let log = ''
    const proc = spawnDaemon('epmd', ['-port', String(this.epmd)], { stdio: ['ignore', 'ignore', 'pipe'] })
    proc.on('error', () => {})
    proc.stderr?.on('data', (d: Buffer) => { log += d.toString() })
    this.epmdProc = proc
    const end = Date.now() + 10_000
    while (!(await canConnect(this.epmd))) {
      if (proc.exitCode !== null) {
        // Its port taken between freePort() and its bind: startOnFreePorts tries again on fresh ports.
        this.epmdTaken = true
        throw new Error(`epmd exited (${proc.exitCode}) on port ${this.epmd}: ${log}`)
      }
      if (Date.now() > end) throw new Error(`epmd did not listen on ${this.epmd} within 10 s: ${log}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  /**
   * Ends the cluster's epmd: ours by SIGKILL. Otherwise (an epmd a node started, should ours have died)
   * `epmd -kill`, which refuses while nodes are still registered, which they are for a moment after
   * their VMs were killed: every city run and city test had left its epmd running (17 found after one
   * afternoon). So ask again until `epmd -names` finds no daemon (at most ~5 s).
   */
  private async killEpmd(): Promise<void> {
    if (!this.epmd) return
    const p = this.epmdProc
    this.epmdProc = null
    if (p && p.exitCode === null && p.signalCode === null) {
      await new Promise<void>((resolve) => { p.once('exit', () => resolve()); p.kill('SIGKILL') })
    }
    const env = { ...process.env, ERL_EPMD_PORT: String(this.epmd) }
    for (let i = 0; i < 20; i++) {
      spawnSync('epmd', ['-port', String(this.epmd), '-kill'], { env, timeout: 10_000 })
      if (spawnSync('epmd', ['-port', String(this.epmd), '-names'], { env, timeout: 10_000 }).status !== 0) return
      await new Promise((r) => setTimeout(r, 250))
    }
  }

  async close(): Promise<void> {
    // SIGKILL, all at once: the data is thrown away, and a clean stop of three loaded nodes outlasted
    // the city run's 15 s cleanup step, so the process ended before killEpmd and left epmd running.
    await Promise.all(this.nodes.map((_, i) => this.kill(i)))
    await this.killEpmd()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

