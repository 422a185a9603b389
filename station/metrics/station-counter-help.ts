/**
 * HELP text for the station's ingest counters (StationHealth.counters()),
 * exposed as `safehouse_station_<name>_total`. A counter not listed here is
 * still exposed, with a generic HELP. docs/operations.md §"Station metrics".
 */
export const STATION_COUNTER_HELP: Readonly<Record<string, string>> = {
  messages: 'MQTT messages read from the station broker.',
  alerts_stored: 'Alerts stored (new rows).',
  alerts_duplicate: 'Alerts received again with the same id and content (redeliveries; normal).',
  rejected: 'Messages rejected, for any reason (stored in the rejected table).',
  rejected_topic: 'Messages rejected: a topic the station does not read.',
  rejected_schema: 'Messages rejected: not valid against the contract\'s schema.',
  rejected_topic_mismatch: 'Messages rejected: the payload names another site, post or device than its topic.',
  rejected_unknown_post: 'Alerts rejected: their post never sent a status or state within unknown_post_grace_ms.',
  rejected_id_conflict: 'Alerts rejected: an id already stored with different content.',
  ingest_errors: 'Messages whose handling threw (should stay 0: report a bug).',
  coalesced: 'State updates merged with a newer one before they were written.',
  db_errors: 'Failed writes to the database (rows are held and retried).',
  held_alerts_dropped: 'Alerts dropped from memory while the database was down (over max_held_rows; the gateway resends them).',
  held_rows_dropped: 'State rows dropped from memory while the database was down (over max_held_rows).',
  alerts_caught_up: 'Alerts put on this instance\'s live feed from the database because its broker never brought them (several instances on PostgreSQL; should stay near 0).',
  acks_caught_up: 'Acks put on this instance\'s live feed from the database because its broker never brought the ack echo (several instances on PostgreSQL; should stay near 0).',
  bad_acks_seen: 'Malformed acks seen on the broker from other instances.',
  live_seq: 'Events published to the consoles\' live feed.',
  live_subscriber_errors: 'Live-feed subscribers that threw (should stay 0: report a bug).',
  broker_subscribe_refusals: 'Subscriptions the station broker refused (SUBACK 0x80); each is subscribed again until granted.',
}

/** Counters that are really levels: exposed as gauges under these names, not as _total. */
export const STATION_LEVELS: Readonly<Record<string, [name: string, help: string]>> = {
  held: ['safehouse_station_held_rows', 'Rows held in memory while the database is unreachable (bounded by max_held_rows).'],
  broker_refused_filters: ['safehouse_station_broker_refused_subscriptions', 'Subscriptions the station broker refuses right now: their messages do not arrive (alert on > 0).'],
}
