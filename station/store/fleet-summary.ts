/**
 * The fleet at a glance, for the station's /metrics (issue 14): every post's
 * online / test-overdue / missing / low-battery figures and the unacknowledged
 * alerts by class. Two statements, bounded by the fleet's size (one row per
 * post, at most three rows of alert counts): no alert rows are read, no JSON
 * is parsed. The post figures use the posts view's rules (row-mappers toPost).
 */
import type { AlertClass } from '../station-api.js'
import type { SqlDb } from './sql-db.js'
import { toPost } from './row-mappers.js'

export interface FleetPost { site: string; post: string; online: boolean; testOverdue: boolean; devicesMissing: number; lowBattery: number }

export interface FleetSummary {
  posts: FleetPost[]
  /** Unacknowledged alerts per class (every class present, 0 when none). */
  unacked: Record<AlertClass, number>
  /** received_at of the oldest unacknowledged alert (ms), null when none. */
  oldestUnackedAt: number | null
}

const POSTS = `SELECT p.site, p.post, p.online, p.last_test_report_at, p.test_interval_s, d.d_missing, d.d_low FROM posts p LEFT JOIN (
  SELECT site, post, SUM(missing) AS d_missing, SUM(low_battery) AS d_low FROM devices GROUP BY site, post) d
  ON d.site = p.site AND d.post = p.post ORDER BY p.site, p.post`

// The alerts_queue index (ack_at, …) serves the WHERE.
const UNACKED = 'SELECT cls, COUNT(*) AS n, MIN(received_at) AS oldest FROM alerts WHERE ack_at IS NULL GROUP BY cls'

export async function readFleet(db: SqlDb, now: number, graceS: number): Promise<FleetSummary> {
  const [postRows, alertRows] = await Promise.all([db.all(POSTS), db.all(UNACKED)])
  const posts = postRows.map((r) => {
    const p = toPost(r, now, graceS)
    return { site: p.site, post: p.post, online: p.online, testOverdue: p.testOverdue, devicesMissing: p.devicesMissing, lowBattery: p.lowBattery }
  })
  const unacked: Record<AlertClass, number> = { alarm: 0, trouble: 0, info: 0 }
  let oldestUnackedAt: number | null = null
  for (const r of alertRows) {
    const cls = String(r.cls)
    if (cls === 'alarm' || cls === 'trouble' || cls === 'info') unacked[cls] += Number(r.n)
    const at = Number(r.oldest)
    if (Number.isFinite(at) && (oldestUnackedAt === null || at < oldestUnackedAt)) oldestUnackedAt = at
  }
  return { posts, unacked, oldestUnackedAt }
}
