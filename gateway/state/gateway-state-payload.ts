/**
 * The retained gateway state for maintainers (issue 6 §4,
 * protocols/mqtt/schemas/gateway-state.schema.json): version, uptime, station
 * link, outbox depth, drops by name, host health, open alerts and acks.
 * Latest value only: published on change and periodically, never queued.
 */
import type { GatewayParts } from '../gateway-parts.js'

/** What the payload reads of the gateway (issue 18: a narrow view, not the class). */
type StateSource = Pick<GatewayParts, 'broker' | 'clock' | 'config' | 'core' | 'counters' | 'dc09' | 'devices' | 'group' | 'hostHealth' | 'outbox' | 'startedAt' | 'state' | 'uplink'>
import { VERSION } from '../version.js'
import { urlForLog } from '../log-url.js'

/** The gateway's counters by name, as the retained state carries them (and /metrics exposes them, issue 14). */
export function gatewayCounters(gw: StateSource): Record<string, number> {
  const ob = gw.outbox.stats()
  const counters: Record<string, number> = {
    duplicates: gw.core.counters.duplicates,
    overflows: gw.core.counters.overflows,
    sink_errors: gw.core.counters.sinkErrors,
    bad_inputs: gw.core.counters.badInputs,
    unknown_acks: gw.counters.unknownAcks,
    bad_acks: gw.counters.badAcks,
    outbox_write_errors: ob.writeErrors,
    uplink_queue_dropped: gw.uplink.counters.queueDropped,
    uplink_publish_errors: gw.uplink.counters.publishErrors,
    broker_refused_anonymous: gw.broker.counters.refusedAnonymous,
    broker_refused_bad_login: gw.broker.counters.refusedBadLogin,
    broker_denied_publish: gw.broker.counters.deniedPublish,
    broker_denied_subscribe: gw.broker.counters.deniedSubscribe,
    broker_rejected_payload: gw.broker.counters.rejectedPayload,
    broker_oversized: gw.broker.counters.oversized,
    broker_refused_too_many: gw.broker.counters.refusedTooMany,
    broker_refused_backoff: gw.broker.counters.refusedBackoff,
    broker_refused_busy: gw.broker.counters.refusedBusy,
    broker_refused_client_id: gw.broker.counters.refusedClientId,
    station_oversized: gw.counters.oversizedInbound,
    driver_start_failures: gw.counters.driverStartFailures,
    refused_reply_topics: gw.counters.refusedReplyTopics,
  }
  const g = gw.group?.fanout
  if (g) {
    counters.group_sent = g.counters.sent
    counters.group_peer_skipped = g.counters.peerSkipped
    counters.group_relayed = g.counters.relayed
    counters.group_repeats = g.counters.repeats
    counters.group_refused = g.counters.refused
    counters.group_stale = g.counters.stale
  }
  const d = gw.dc09?.sender
  if (d) for (const [k, v] of Object.entries(d.counters)) counters[`dc09_${k}`] = v
  return counters
}

export function gatewayStatePayload(gw: StateSource): object {
  const ob = gw.outbox.stats()
  const oldest = gw.outbox.oldest(1)
  const outboxProblem = gw.outbox.problem?.() ?? null
  const counters = gatewayCounters(gw)
  const g = gw.group?.fanout
  const d = gw.dc09?.sender
  // The BLE scanner (issue 11 §7): its link, faults (gateway_trouble) and counters live on
  // device 0, which has no device state of its own; without this they were only in the log.
  const st = gw.state
  const ble = gw.devices.entries.some((e) => e.kind === 'ble-whistle')
    ? { ble: { status: st.status[0], reason: st.statusReason[0], faults: st.activeFaults(0), counters: Object.fromEntries(st.counters[0]) } }
    : {}
  return {
    v: 1,
    site: gw.config.site,
    post: gw.config.post,
    post_type: gw.config.post_type,
    group: gw.config.group,
    ...(g ? { group_peers: g.peerStates() } : {}),
    version: VERSION,
    time: gw.clock.now(),
    uptime_s: Math.floor((gw.clock.now() - gw.startedAt) / 1000),
    mode: gw.core.testMode ? 'walk_test' : 'normal',
    station: gw.uplink.state,
    protocol: gw.uplink.connected ? gw.uplink.protocolVersion : null,
    // Several endpoints or paths (issue 16 §1): which broker each path uses and which path carries alerts.
    ...(gw.uplink.links.length > 1 || gw.uplink.links.some((l) => l.endpoints > 1)
      ? { station_paths: gw.uplink.links.map((l) => ({ name: l.name, state: l.state, endpoint: urlForLog(l.url) ?? '', active: l.name === gw.uplink.activePath })) }
      : {}),
    outbox: { depth: ob.depth, oldest_ms: oldest.length ? oldest[0].acceptedAt : null },
    ...(d ? { dc09: { state: d.state, receiver: d.endpoint, depth: d.depth, last_ack_at: d.lastAckAt, last_duh: d.lastDuh } } : {}),
    counters,
    cpu_temp_c: gw.hostHealth.cpuTempC,
    disk_free_mb: gw.hostHealth.diskFreeMb,
    ...(gw.hostHealth.lowDisk ? { disk_low: true } : {}),
    last_ack: gw.state.lastAck,
    ...(outboxProblem ? { outbox_problem: outboxProblem } : {}),
    ...ble,
    open_alerts: [...gw.state.open.values()].map(({ id, device, kind, hw_time }) => ({ id, device, kind, hw_time })),
    recent_acks: gw.state.recentAcks,
  }
}
