/**
 * Issue 6 §6: the station broker stopped "for minutes" while 10,000 alerts
 * are raised -> all arrive after it returns, in order per device, ids unique
 * (test/harness/station-outage.ts). Slow by design: the outage alone is OUTAGE_MS.
 */
import t from 'tap'
import { stationOutage } from '../harness/station-outage.js'

/**
 * How long the station broker stays down. The issue asks for an outage of
 * "minutes": two minutes is long enough for every timer in play to fire many
 * times over (ack timeout 30 s -> escalations, uplink backoff at its cap,
 * test reports, keepalives) and short enough for CI.
 */
export const OUTAGE_MS = 120_000
/** Alerts raised during the outage. */
export const ALERTS = 10_000

// Outage + feeding + drain on a loaded 2-core machine: far beyond tap's 30 s default.
t.setTimeout(OUTAGE_MS + 240_000)

t.test(`station down for ${OUTAGE_MS / 1000} s while ${ALERTS} alerts are raised: all arrive, in order per device, outbox drains`, async (t) => {
  t.setTimeout(OUTAGE_MS + 230_000)
  await stationOutage(t, { outageMs: OUTAGE_MS, alerts: ALERTS })
})
