/**
 * Issue 16 §4: a city on this machine. 2,100 posts x 10 devices speaking the
 * station contract (test/harness/contract-fleet.ts: per-post credentials and
 * session, QoS 1 alerts with outbox semantics, retained state and device
 * state every 30 s, a test report every 60 s, Last Will, backoff reconnection
 * round the nodes) against a 3-node NATS cluster (JetStream R3, MQTT), two
 * station service instances (the real CLI) on one PostgreSQL, an operator at
 * each instance's console (SSE) and the one at B acknowledging every alert.
 * Alerts at 50/s with bursts of 1,000 within a second; broker node n2 (the one
 * instance B reads from) and station instance A killed -9 mid-run.
 * (test/harness/city-run.ts does the work; test/station/city-scaled.test.ts
 * runs 200 posts as a test.)
 *
 *   node --import tsx bench/city.ts            2,100 posts, 150 s of traffic (kills at 60 s)
 *   CITY_POSTS=500 CITY_SECONDS=600 node --import tsx bench/city.ts
 *   CITY_BROKER=rabbitmq CITY_POSTS=1000 node --import tsx bench/city.ts   the RabbitMQ 3.10 cluster
 *   CITY_GEN_PROCS=1 ...                       the load generator in one process (default 4 from 1,000 posts)
 */
import { runCity, type Percentiles } from '../test/harness/city-run.js'
import { machineLine, load1 } from './bench-stats.js'

const POSTS = Number(process.env.CITY_POSTS ?? 2100)
const SECONDS = Number(process.env.CITY_SECONDS ?? 150)
const KILL_AT = Math.round(SECONDS * 0.4)
const bursts = [{ atS: Math.round(SECONDS * 0.2), count: 1000 }, { atS: Math.round(SECONDS * 0.75), count: 1000 }]
const loadBefore = load1()
const started = new Date()
const r = await runCity({
  posts: POSTS, seconds: SECONDS, killAtS: KILL_AT, alertsPerS: 50, bursts, drainS: Number(process.env.CITY_DRAIN_S ?? 150),
  progress: (l) => process.stderr.write(`city: ${l}\n`),
})
const loadAfter = load1()
const ms = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-')
const row = (name: string, p: Percentiles) => `| ${name} | ${p.n} | ${ms(p.p50)} | ${ms(p.p99)} | ${ms(p.max)} |`

process.stderr.write(`${JSON.stringify(r)}\n`)
const rabbit = r.broker.startsWith('RabbitMQ')
const brokerLine = rabbit
  ? `3-node ${r.broker} cluster (MQTT plugin, quorum queues for sessions, the harness's Erlang flags and ets retained store${
    ['SAFEHOUSE_RABBIT_ERL_ARGS', 'SAFEHOUSE_RABBIT_CONF'].filter((k) => process.env[k]).map((k) => `; ${k}='${process.env[k]}'`).join('')}), per-post RabbitMQ users with topic permissions`
  : `3-node ${r.broker} cluster (JetStream, MQTT, R3), per-post NATS users`
console.log(`## Issue 16: a city on a ${r.broker} cluster (bench/city.ts)

${machineLine(started)}; load ${loadBefore} before, ${loadAfter} after (the machine is shared). Command: \`${rabbit ? 'CITY_BROKER=rabbitmq ' : ''}${process.env.CITY_GEN_PROCS ? `CITY_GEN_PROCS=${process.env.CITY_GEN_PROCS} ` : ''}CITY_POSTS=${POSTS} CITY_SECONDS=${SECONDS} node --import tsx bench/city.ts\`.
${brokerLine}; ${POSTS} posts x ${r.devices} devices from a load generator speaking the contract
(test/harness/contract-fleet.ts in ${r.genProcs.length} process${r.genProcs.length === 1 ? '' : 'es'}, test/harness/split-fleet.ts; why that is faithful: docs/city.md); two station instances
(real CLI processes) on one PostgreSQL 15; alerts ${r.seconds} s at 50/s with bursts of 1,000 within a second at ${bursts.map((b) => `${b.atS} s`).join(' and ')};
broker node n2 and station instance A killed -9 at ${KILL_AT} s. Cluster start ${ms(r.clusterStartMs)} ms; ${POSTS} posts connected in ${ms(r.fleetConnectMs)} ms.

| figure | value |
|---|---:|
| alerts raised | ${r.raised} |
| rows stored (one per id) | ${r.stored} |
| **alerts lost** (neither stored nor held by their post) | **${r.lost}** |
| not stored by the end, still in their post's outbox (delayed, re-sent) | ${r.notYetStored} |
| rows without an alert raised | ${r.extraRows} |
| stored but not acknowledged by the operator | ${r.unacked} |
| repeats (same id re-sent: reconnect replay or 30 s ack timeout) | ${r.repeats} |
| ids reused with other bytes (rejected) | ${r.idConflicts} |
| acks for ids the post no longer held (a second ack) | ${r.unknownAcks} |
| acknowledged in the database, ack never reached the post by the end | ${r.ackedNotDelivered} |
| post outages (the kill's and keepalive timeouts under load) | ${r.reconnects.postsCut} |
| reconnect time per outage p50 / p99 / max ms | ${ms(r.reconnects.p50)} / ${ms(r.reconnects.p99)} / ${ms(r.reconnects.max)} |
| every post connected again after the kill | ${r.recoveredAfterMs === null ? 'not within the run' : `${ms(r.recoveredAfterMs)} ms`} |
| alert sends by the posts /s (mean, repeats included) | ${Math.round(r.messagesPerS)} |
| outages by cause (the post's last error) | ${Object.entries(r.lostBy).map(([k, v]) => `${k} ${v}`).join(', ')} |
| load generator's event-loop delay p99 / max ms (the worst of its processes) | ${ms(r.loadGenLag.p99)} / ${ms(r.loadGenLag.max)} |
${r.genProcs.map((g, k) => `| generator process ${k + 1} (${g.posts}): event-loop delay p99 / max ms; its CPU % of a core | ${ms(g.lag.p99)} / ${ms(g.lag.max)}; ${g.lag.cpuPct.toFixed(0)} |`).join('\n')}
| the machine's CPU busy during the traffic, % of both cores (all processes, the run's and others') | ${r.machineBusyPct.toFixed(0)} |
| the run's own process (consoles, operator, kills): event-loop delay p99 / max ms; its CPU % of a core | ${ms(r.runnerLag.p99)} / ${ms(r.runnerLag.max)}; ${r.runnerLag.cpuPct.toFixed(0)} |

Alert to console (first send at the post -> the alert on desk B's live feed; before the kill desk A's counts when B's is later):

| phase (by first send) | alerts | p50 ms | p99 ms | max ms |
|---|---:|---:|---:|---:|
${row('before the kill', r.console.before)}
${row('during (kill -> every post back)', r.console.during)}
${row('after', r.console.after)}

Broker nodes (${rabbit ? 'the Erlang VM from ps, connections from ss' : 'nats-server /varz'}, sampled every 2 s; the second node until it was killed):

| node | RSS at end MiB | max RSS MiB | CPU % mean | CPU % max | connections at end |
|---|---:|---:|---:|---:|---:|
${r.nodes.map((n) => `| ${n.node}${n.killed ? ' (killed)' : ''} | ${n.memMb.toFixed(0)} | ${n.maxMemMb.toFixed(0)} | ${n.cpuAvg.toFixed(0)} | ${n.cpuMax.toFixed(0)} | ${n.connections} |`).join('\n')}
${r.ackedNotDelivered ? `
Posts still holding acknowledged alerts at the end (first 50): ${r.stillPending.map((p) => `${p.post} ${p.alerts}${p.cut ? ' (cut)' : ''}`).join(', ')}.
What the broker carried for the first of them (seen by a watcher on n1): ${r.wireOfPending.slice(0, 6).map((w) => `${w.id}: ${w.sends} sends, ${w.acks} acks`).join('; ')}.
` : ''}`)
