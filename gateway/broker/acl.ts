/**
 * The embedded broker's access control (issue 2 §6, DESIGN §4 "Deny by
 * default"): a role per user, and per role the topic filters it may publish
 * to and subscribe to, expanded for this post at start. Anything not listed
 * is refused. `{client}` expands to the connecting client's id so a requester
 * only reads its own command replies.
 */
import type { BrokerRole } from '../config/config-types.js'
import { PROTOCOL_ROOT } from '../../protocols/mqtt/topics.js'
import { filterWithin, topicMatches } from './topic-match.js'

export interface RoleRules {
  publish: string[]
  subscribe: string[]
}

/** The policy, readable in one place (docs/protocol.md §Local broker mirrors it). */
export function roleRules(site: string, post: string, group: string | null): Record<BrokerRole, RoleRules> {
  const R = `${PROTOCOL_ROOT}/${site}/${post}`
  const readPost = [`${R}/status`, `${R}/state`, `${R}/alert/+`, `${R}/neighbour-alert/+`, `${R}/device/+/state`]
  const groupAlert = group ? [`${PROTOCOL_ROOT}/${site}/group/${group}/alert`] : []
  return {
    // A lamp-box panel or local screen: reads its post's alerts and state (and the roll call
    // waiting for a check-in, issue 15), publishes nothing.
    panel: { publish: [], subscribe: [...readPost, `${R}/roll-call`] },
    // A technician's laptop: reads everything of this post, sends commands, reads its own replies.
    technician: { publish: [`${R}/cmd/+`], subscribe: [`${R}/#`] },
    // A local station console: like a technician, and may acknowledge alerts.
    station: { publish: [`${R}/ack`, `${R}/cmd/+`], subscribe: [`${R}/#`] },
    // Another post's gateway of the same group (issue 6 fan-out).
    neighbour: { publish: [...groupAlert], subscribe: [...groupAlert] },
    // The demo's simulator: drives simulated twins and watches the post.
    simulator: { publish: [`${R}/sim/+/+`], subscribe: [`${R}/#`] },
  }
}

export class Acl {
  private readonly users: Map<string, RoleRules>

  constructor(users: readonly { username: string; role: BrokerRole }[], rules: Record<BrokerRole, RoleRules>) {
    this.users = new Map(users.map((u) => [u.username, rules[u.role]]))
  }

  canPublish(username: string | undefined, topic: string): boolean {
    const r = username === undefined ? undefined : this.users.get(username)
    return !!r && r.publish.some((f) => topicMatches(f, topic))
  }

  canSubscribe(username: string | undefined, clientId: string, filter: string): boolean {
    const r = username === undefined ? undefined : this.users.get(username)
    if (!r) return false
    // A client id may legally contain '+', '#' or '/'; expanded into a rule it would widen it.
    const safeId = !/[+#/]/.test(clientId) && clientId !== ''
    return r.subscribe.some((a) => (a.includes('{client}') ? safeId && filterWithin(filter, a.replace('{client}', clientId)) : filterWithin(filter, a)))
  }

  roleOf(username: string): RoleRules | undefined {
    return this.users.get(username)
  }
}
