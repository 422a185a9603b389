/**
 * Issue 16 §2: the station contract suite (station-contract-suite.ts, the
 * same tests station-mosquitto.test.ts runs on mosquitto) on a real 3-node
 * NATS cluster with JetStream and MQTT (Debian's nats-server 2.9), one
 * cluster for the file. NATS speaks MQTT 3.1.1 only, so the uplink's MQTT 5
 * -> 3.1.1 fallback is what carries every test; QoS 1 alerts, retained
 * state, the Last Will, acks and a whole-station outage work unchanged.
 */
import t from 'tap'
import { sharedNatsCluster } from '../harness/station-broker-under-test.js'
import { stationContractSuite } from './station-contract-suite.js'

t.setTimeout(180_000)
const nats = sharedNatsCluster()
t.teardown(() => nats.close())
stationContractSuite(t, nats.factory)
