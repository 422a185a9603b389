/** What bench/fanout.ts, its broker child and its clients child agree on. */
export const FANOUT_SITE = 'bench-city'
export const FANOUT_POST = 'kiosk-001'
export const FANOUT_ROOT = `safehouse/v1/${FANOUT_SITE}/${FANOUT_POST}`
/** The publisher publishes here; every subscriber subscribes to `${FANOUT_ROOT}/cmd/+`. */
export const FANOUT_TOPIC = `${FANOUT_ROOT}/cmd/fanout`
export const FANOUT_FILTER = `${FANOUT_ROOT}/cmd/+`
export const FANOUT_PUBLISHER = { username: 'desk-1', password: 'desk-password-1', role: 'station' } as const
/** Subscribers log in as one of these in turn (several logins, as local screens and laptops would). */
export const FANOUT_SUBSCRIBERS = [0, 1, 2, 3].map((i) => ({ username: `tech-${i}`, password: `tech-password-${i}`, role: 'technician' as const }))
export const FANOUT_USERS = [FANOUT_PUBLISHER, ...FANOUT_SUBSCRIBERS]
