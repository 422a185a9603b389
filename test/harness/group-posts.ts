/**
 * Posts of one group for the fan-out tests and bench (issue 6 §5): in-process
 * gateways with their own embedded brokers on loopback ports, optionally
 * linked directly to each other, all on one station, and a local screen (panel
 * role) at each post that records the neighbour alerts it is shown.
 */
import mqtt, { type MqttClient } from 'mqtt'
import { freePort } from './mosquitto.js'
import { testGateway, until, USERS } from './test-gateway.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'
import type { Gateway } from '../../gateway/gateway.js'

export interface GroupPost {
  post: string
  gw: Gateway
  /** Neighbour alerts the post's local screen received. */
  seen: { origin: string; id: string; at: bigint }[]
  screen: MqttClient
}

export interface GroupOptions {
  posts?: string[]
  /** Link the posts directly (group_fanout.peers); false = station broker only. */
  linked?: boolean
  /** Extra config for every post (e.g. core: { dedupe_ms: 0 }). */
  extra?: Record<string, unknown>
  /** Extra station config for every post (e.g. protocol: '3.1.1'). */
  station?: Record<string, unknown>
}

/**
 * Start the group's posts. Each post's broker port must be known before any post starts (its peers
 * dial it), so ports come from freePort(): another test process can take one in between; a start
 * that finds its port taken is retried on fresh ports (the harness's race, not the product's).
 */
export async function startGroup(owner: { teardown: (f: () => unknown) => void }, stationUrl: string, o: GroupOptions = {}): Promise<GroupPost[]> {
  for (let attempt = 1; ; attempt++) {
    const cleanups: (() => unknown)[] = []
    try {
      const out = await startGroupOnce(cleanups, stationUrl, o)
      for (const c of cleanups) owner.teardown(c)
      return out
    } catch (err) {
      for (const c of cleanups.reverse()) await c()
      if (attempt >= 3 || !/port is in use/.test((err as Error).message)) throw err
    }
  }
}

async function startGroupOnce(cleanups: (() => unknown)[], stationUrl: string, o: GroupOptions): Promise<GroupPost[]> {
  const owner = { teardown: (f: () => unknown) => { cleanups.push(f) } }
  const names = o.posts ?? ['kiosk-001', 'kiosk-003', 'kiosk-004']
  const linked = o.linked ?? true
  const ports = await Promise.all(names.map(() => freePort()))
  // Each post logs in to its peers under its own post id (role neighbour there): the login is the
  // origin a peer's broker accepts in a group alert (issue 12 §6, gateway/group/group-origin.ts).
  const localUsers = Object.values(USERS).filter((u) => u.role !== 'neighbour').map(({ username, role }) => ({ username, role }))
  const out: GroupPost[] = []
  for (const [i, post] of names.entries()) {
    const peers = linked ? names.flatMap((p, j) => (j === i ? [] : [{ post: p, url: `mqtt://127.0.0.1:${ports[j]}` }])) : []
    const others = names.filter((p) => p !== post)
    const { gw, cleanup } = await testGateway({
      post,
      stationUrl,
      station: o.station,
      groupPassword: USERS.neighbour.password,
      extraPasswords: Object.fromEntries(others.map((p) => [p, USERS.neighbour.password])),
      extra: {
        broker: { port: ports[i], users: [...localUsers, ...others.map((p) => ({ username: p, role: 'neighbour' }))] },
        group_fanout: { peers, username: linked ? post : null },
        ...o.extra,
      },
    })
    owner.teardown(cleanup)
    out.push({ post, gw, seen: [], screen: null as unknown as MqttClient })
  }
  for (const p of out) await p.gw.start()
  for (const [i, p] of out.entries()) {
    p.screen = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports[i]}`, { username: USERS.panel.username, password: USERS.panel.password })
    owner.teardown(() => p.screen.endAsync())
    p.screen.on('message', (_topic, payload) => {
      const at = process.hrtime.bigint()
      const r = checkPayload<{ id: string; origin_post: string }>('alert', payload)
      if (r.ok) p.seen.push({ origin: r.value.origin_post, id: r.value.id, at })
    })
    await p.screen.subscribeAsync(`safehouse/v1/test-city/${p.post}/neighbour-alert/+`, { qos: 1 })
  }
  for (const p of out) {
    await until(() => p.gw.uplink.connected, `${p.post} connected to the station`)
    if (linked) await until(() => (p.gw.group?.peers ?? []).every((l) => l.connected), `${p.post} linked to its peers`)
  }
  return out
}
