/**
 * Issue 6 §6: the station broker stopped "for minutes" while 10,000 alerts
 * are raised -> all arrive after it returns, in order per device, ids unique
 * (test/harness/station-outage.ts). Slow by design: the outage alone is OUTAGE_MS.
 */
import t from 'tap'
import { stationOutage } from '../harness/station-outage.js'

/**
 * How long the station broker stays down. `npm test` (issue 14 §5): 40 s,
 * still longer than every timer in play (ack timeout 30 s -> resends and
 * escalations, the test gateway's uplink backoff capped at 1 s, keepalive 5 s).
 * `.ci/run` (SAFEHOUSE_SOAK=long): the two minutes the outage issue asked for,
 * so each of those fires many times over.
 */
export const OUTAGE_MS = process.env.SAFEHOUSE_SOAK === 'long' ? 120_000 : 40_000
/** Alerts raised during the outage. */
export const ALERTS = 10_000

// Outage + feeding + drain on a loaded 2-core machine: far beyond tap's 30 s default.
t.setTimeout(OUTAGE_MS + 240_000)

t.test(`station down for ${OUTAGE_MS / 1000} s while ${ALERTS} alerts are raised: all arrive, in order per device, outbox drains`, async (t) => {
  t.setTimeout(OUTAGE_MS + 230_000)
  await stationOutage(t, { outageMs: OUTAGE_MS, alerts: ALERTS })
})
