/**
 * Issue 6 §6: the station broker stopped "for minutes" while 10,000 alerts
 * are raised -> all arrive after it returns, in order per device, ids unique
 * (test/harness/station-outage.ts). Slow by design: the outage alone is OUTAGE_MS.
 */
import t from 'tap'
import { stationOutage } from '../harness/station-outage.js'
import { soakMs } from '../harness/soak-tier.js'

/**
 * How long the station broker stays down, and the gateway's ack timeout during it.
 * `npm test` (issue 14 §5): 20 s with ack_timeout_s 10, so the outage still outlasts every timer
 * in play: the ack timeout (its escalations are raised during the outage; asserted), the test
 * gateway's uplink backoff (capped at 1 s: some twenty reconnect attempts) and its 5 s keepalive.
 * Not shorter: the ack timeout must also outlast an ack's round trip while the backlog drains
 * (500 in flight at ~260 alerts/s at load 23); at 5 s the resends overtook the replay and broke
 * the order per device (measured: 6,800 resends).
 * `.ci/run` (SAFEHOUSE_SOAK=long): the two minutes the outage issue asked for, with the
 * product's default ack timeout of 30 s, so each of those fires many times over.
 */
export const OUTAGE_MS = soakMs(20_000, 120_000)
export const ACK_TIMEOUT_S = soakMs(10, 30)
/** Alerts raised during the outage. */
export const ALERTS = 10_000

// Outage + feeding + drain on a loaded 2-core machine: far beyond tap's 30 s default.
t.setTimeout(OUTAGE_MS + 240_000)

t.test(`station down for ${OUTAGE_MS / 1000} s (ack timeout ${ACK_TIMEOUT_S} s) while ${ALERTS} alerts are raised: all arrive, in order per device, outbox drains`, async (t) => {
  t.setTimeout(OUTAGE_MS + 230_000)
  await stationOutage(t, { outageMs: OUTAGE_MS, alerts: ALERTS, ackTimeoutS: ACK_TIMEOUT_S })
})
