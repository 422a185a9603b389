/**
 * HELP text for the retained gateway state's counters (gateway-state-payload.ts
 * gatewayCounters), exposed as `safehouse_<name>_total`. docs/operations.md
 * §Counters says what to do about each.
 */
export const COUNTER_HELP: Readonly<Record<string, string>> = {
  duplicates: 'Repeated inputs merged by the event core (normal for BLE bursts).',
  overflows: 'Events dropped because the event ring was full (should stay 0: report a bug).',
  sink_errors: 'Event sinks that threw (should stay 0: report a bug).',
  bad_inputs: 'Inputs from drivers the event core refused (unknown device or kind).',
  unknown_acks: 'Acks for alert ids this post never raised or already removed.',
  bad_acks: 'Malformed ack messages.',
  outbox_write_errors: 'Alerts that could not be stored durably (disk full or read-only); they were still sent.',
  uplink_queue_dropped: 'Non-alert messages dropped while the station was unreachable (bounded queue).',
  uplink_publish_errors: 'Publishes to the station that failed.',
  broker_refused_anonymous: 'Embedded broker: connections refused for lack of a login.',
  broker_refused_bad_login: 'Embedded broker: connections refused for a wrong user or password.',
  broker_denied_publish: 'Embedded broker: publishes denied by the ACL.',
  broker_denied_subscribe: 'Embedded broker: subscriptions denied by the ACL.',
  broker_rejected_payload: 'Embedded broker: malformed payloads on topics the gateway consumes.',
  broker_oversized: 'Embedded broker: packets over broker.max_packet_bytes.',
  driver_start_failures: 'Device drivers that failed to start (the others run on).',
  refused_reply_topics: 'Local commands naming a reply topic outside <post>/cmd-reply/.',
  group_sent: 'Own alerts sent to the joint-defence group.',
  group_peer_skipped: 'Group alerts not sent to a direct peer because its link was down.',
  group_relayed: 'Neighbours\' alerts relayed to local screens and the lamp box.',
  group_repeats: 'Neighbours\' alerts heard again by the second path (normal).',
  group_refused: 'Group messages refused (malformed, or from a post not in the group).',
  group_stale: 'Neighbours\' alerts older than group_fanout.max_age_s, not relayed (check NTP).',
}
