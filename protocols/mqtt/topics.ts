/**
 * The station contract's topic tree (docs/protocol.md §Topics). One versioned
 * root; every topic a gateway uses is built here, once, at start (DESIGN §4:
 * topics are interned, never built per event).
 *
 *   safehouse/v1/<site>/<post>/status                  retained "online"/"offline" (Last Will)
 *   safehouse/v1/<site>/<post>/state                   retained gateway state (JSON)
 *   safehouse/v1/<site>/<post>/alert/<device>          alerts, QoS 1, not retained
 *   safehouse/v1/<site>/<post>/device/<device>/state   retained device state
 *   safehouse/v1/<site>/<post>/neighbour-alert/<post2> a group neighbour's alert, relayed for local screens
 *   safehouse/v1/<site>/<post>/test-report             periodic liveness report, QoS 1, not retained
 *   safehouse/v1/<site>/<post>/path/<path>/status      dual path: retained "online"/"offline" of one path (its Last Will)
 *   safehouse/v1/<site>/<post>/walk-test/report        retained: the latest commissioning (walk-test) report
 *   safehouse/v1/<site>/<post>/ack                     station -> gateway: alert acknowledged
 *   safehouse/v1/<site>/<post>/cmd/<name>              station/technician -> gateway: command request
 *   safehouse/v1/<site>/<post>/cmd-reply/<client>      gateway -> requester (MQTT 3.1.1 fallback)
 *   safehouse/v1/<site>/<post>/sim/<device>/<action>   demo only: drive a simulated twin
 *   safehouse/v1/<site>/<post>/sim-result/<device>/<action>  gateway -> simulator: accepted or refused
 *   safehouse/v1/<site>/group/<group>/alert            group fan-out between posts (issue 6)
 */
export const PROTOCOL_ROOT = 'safehouse/v1'

/** A level must not contain MQTT wildcards or separators ([MQTT-4.7.1-1], [MQTT-4.7.1-2]). */
export const TOPIC_LEVEL_PATTERN = '^[a-z0-9][a-z0-9-]{0,31}$'
const LEVEL = new RegExp(TOPIC_LEVEL_PATTERN)

/**
 * `<site>/group/…` holds the group fan-out, so no post may be called "group": its
 * `…/group/alert/<device>` would collide with group "alert", and a technician's
 * `<site>/group/#` would read every group of the site.
 */
export const RESERVED_POST = 'group'

/** Schema property for a device id: ids become topic levels, so they follow the same rule. */
export const DEVICE_ID_PROPERTY = {
  type: 'string',
  pattern: TOPIC_LEVEL_PATTERN,
  description: 'Device id, unique on this post: lower-case letters, digits and dashes, 1-32 chars.',
} as const

export function isTopicLevel(s: string): boolean {
  return LEVEL.test(s)
}

export class PostTopics {
  readonly root: string
  readonly status: string
  readonly state: string
  readonly ack: string
  readonly testReport: string
  readonly walkTestReport: string
  /** The roll call waiting for this post's check-in (embedded broker only, retained). */
  readonly rollCall: string
  readonly cmdPrefix: string
  readonly cmdFilter: string
  readonly cmdReplyPrefix: string
  readonly simFilter: string
  readonly alertFilter: string

  constructor(readonly site: string, readonly post: string) {
    for (const [what, v] of [['site', site], ['post', post]] as const) {
      if (!isTopicLevel(v)) throw new Error(`${what} "${v}" is not a valid topic level (${TOPIC_LEVEL_PATTERN})`)
    }
    if (post === RESERVED_POST) throw new Error(`post "${post}" is reserved: <site>/${RESERVED_POST}/… is the group fan-out tree; choose another post id`)
    this.root = `${PROTOCOL_ROOT}/${site}/${post}`
    this.status = `${this.root}/status`
    this.state = `${this.root}/state`
    this.ack = `${this.root}/ack`
    this.testReport = `${this.root}/test-report`
    this.walkTestReport = `${this.root}/walk-test/report`
    this.rollCall = `${this.root}/roll-call`
    this.cmdPrefix = `${this.root}/cmd/`
    this.cmdFilter = `${this.root}/cmd/+`
    this.cmdReplyPrefix = `${this.root}/cmd-reply/`
    this.simFilter = `${this.root}/sim/+/+`
    this.alertFilter = `${this.root}/alert/+`
  }

  alert(device: string): string { return `${this.root}/alert/${device}` }
  neighbourAlert(originPost: string): string { return `${this.root}/neighbour-alert/${originPost}` }
  deviceState(device: string): string { return `${this.root}/device/${device}/state` }
  cmd(name: string): string { return this.cmdPrefix + name }
  cmdReply(clientId: string): string { return this.cmdReplyPrefix + clientId }
  sim(device: string, action: string): string { return `${this.root}/sim/${device}/${action}` }
  /** The gateway's answer to a sim/ command: accepted, or refused and why (issue 14). */
  simResult(device: string, action: string): string { return `${this.root}/sim-result/${device}/${action}` }
  /** Dual path (issue 16 §1): one path's retained status, that path's Last Will. */
  pathStatus(path: string): string { return `${this.root}/path/${path}/status` }
  groupAlert(group: string): string { return `${PROTOCOL_ROOT}/${this.site}/group/${group}/alert` }

  /** Parse `…/<post>/<seg>/<a>[/<b>]` for topics under this post; null when not ours. */
  relative(topic: string): string[] | null {
    if (!topic.startsWith(this.root + '/')) return null
    return topic.slice(this.root.length + 1).split('/')
  }
}
