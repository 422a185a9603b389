import t from 'tap'
import { filterWithin, topicMatches } from '../../../gateway/broker/topic-match.js'
import { Acl, roleRules, type RoleRules } from '../../../gateway/broker/acl.js'
import type { BrokerRole } from '../../../gateway/config/config-types.js'

t.test('topicMatches ([MQTT-4.7])', async (t) => {
  const table: Array<[string, string, boolean]> = [
    ['a/b/c', 'a/b/c', true],
    ['a/b/c', 'a/b/d', false],
    ['a/b/c', 'a/b', false],
    ['a/b', 'a/b/c', false],
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a/b/x/c', false],
    ['a/+', 'a/', true], // + matches an empty level
    ['a/+', 'a', false],
    ['+/+', 'a/b', true],
    ['+', 'a/b', false],
    ['a/#', 'a/b/c/d', true],
    ['a/#', 'a/b', true],
    ['a/#', 'a', true], // '#' includes the parent level [MQTT-4.7.1-2]
    ['a/#', 'ab', false],
    ['#', 'a/b/c', true],
    ['a/+/#', 'a/b', true],
    ['a/b', 'A/b', false], // case-sensitive
    ['kiosk-1/#', 'kiosk-17/x', false], // levels, not string prefixes
    // [MQTT-4.7.2-1]: $-topics are not matched by a first-level wildcard...
    ['#', '$SYS/broker/load', false],
    ['+/broker/load', '$SYS/broker/load', false],
    // ...but an explicit $ level may be matched and followed by wildcards.
    ['$SYS/#', '$SYS/broker/load', true],
    ['$SYS/+/load', '$SYS/broker/load', true],
  ]
  for (const [f, topic, want] of table) t.equal(topicMatches(f, topic), want, `${f} ~ ${topic}`)
})

t.test('filterWithin: a subscription may not reach beyond what is allowed', async (t) => {
  const table: Array<[string, string, boolean]> = [
    ['a/b/c', 'a/b/c', true],
    ['a/b/c', 'a/+/c', true],
    ['a/+/c', 'a/+/c', true],
    ['a/b/c', 'a/#', true],
    ['a/b/#', 'a/#', true],
    ['a/+/#', 'a/#', true],
    ['a/#', 'a/#', true],
    ['a', 'a/#', true], // the parent level is inside a/#
    ['a/+', 'a/#', true],
    // widening attempts
    ['#', 'a/#', false],
    ['+/b', 'a/b', false],
    ['a/#', 'a/+', false],
    ['a/#', 'a/b', false],
    ['a/+', 'a/b', false],
    ['a/+/c', 'a/b/c', false],
    ['a/b/#', 'a/b', false],
    ['a/b', 'a/b/c', false],
    ['a/b/c', 'a/b', false],
    ['a/b/c/d', 'a/+/c', false],
    ['x/#', 'a/#', false],
    ['a', 'a/+', false],
  ]
  for (const [req, allowed, want] of table) t.equal(filterWithin(req, allowed), want, `${req} within ${allowed}`)
})

const SITE = 'sh-huangpu'
const POST = 'kiosk-017'
const R = `safehouse/v1/${SITE}/${POST}`
const OTHER = `safehouse/v1/${SITE}/kiosk-018`
const OTHER_SITE = `safehouse/v1/sh-minhang/${POST}`
const GROUP = `safehouse/v1/${SITE}/group/unit-3/alert`
const OTHER_GROUP = `safehouse/v1/${SITE}/group/unit-4/alert`

const users: { username: string; role: BrokerRole }[] = [
  { username: 'panel-1', role: 'panel' },
  { username: 'tech', role: 'technician' },
  { username: 'station', role: 'station' },
  { username: 'kiosk-018', role: 'neighbour' },
  { username: 'demo', role: 'simulator' },
]
const acl = new Acl(users, roleRules(SITE, POST, 'unit-3'))

/** Topics of this post, and for each role: may it publish / may it subscribe (exact topic)? */
const topics: Array<{ topic: string; pub: BrokerRole[]; sub: BrokerRole[] }> = [
  { topic: `${R}/status`, pub: [], sub: ['panel', 'technician', 'station', 'simulator'] },
  { topic: `${R}/state`, pub: [], sub: ['panel', 'technician', 'station', 'simulator'] },
  { topic: `${R}/alert/counter-btn`, pub: [], sub: ['panel', 'technician', 'station', 'simulator'] },
  { topic: `${R}/device/counter-btn/state`, pub: [], sub: ['panel', 'technician', 'station', 'simulator'] },
  { topic: `${R}/ack`, pub: ['station'], sub: ['technician', 'station', 'simulator'] },
  { topic: `${R}/cmd/lamp-test`, pub: ['technician', 'station'], sub: ['technician', 'station', 'simulator'] },
  { topic: `${R}/cmd-reply/tech-laptop`, pub: [], sub: ['technician', 'station', 'simulator'] },
  { topic: `${R}/sim/counter-btn/press`, pub: ['simulator'], sub: ['technician', 'station', 'simulator'] },
  { topic: GROUP, pub: ['neighbour'], sub: ['neighbour'] },
]
const ROLES: BrokerRole[] = ['panel', 'technician', 'station', 'neighbour', 'simulator']
const userOf = (role: BrokerRole): string => users.find((u) => u.role === role)!.username

t.test('per role: publish and subscribe on each topic of the post', async (t) => {
  for (const { topic, pub, sub } of topics) {
    for (const role of ROLES) {
      const u = userOf(role)
      t.equal(acl.canPublish(u, topic), pub.includes(role), `${role} publish ${topic}`)
      t.equal(acl.canSubscribe(u, 'c1', topic), sub.includes(role), `${role} subscribe ${topic}`)
    }
  }
})

t.test('the headline rules', async (t) => {
  t.ok(acl.canSubscribe('panel-1', 'c', `${R}/alert/+`), 'panel reads its alerts with a wildcard')
  t.ok(acl.canSubscribe('panel-1', 'c', `${R}/device/+/state`), 'panel reads device state with a wildcard')
  t.notOk(acl.canPublish('panel-1', `${R}/alert/counter-btn`), 'panel never publishes an alert')
  t.notOk(acl.canPublish('panel-1', `${R}/ack`), 'panel never acks')
  t.ok(acl.canPublish('tech', `${R}/cmd/walk-test`), 'technician sends commands')
  t.notOk(acl.canPublish('tech', `${R}/ack`), 'technician cannot ack')
  t.notOk(acl.canPublish('tech', `${R}/alert/x`), 'technician cannot raise alerts')
  t.ok(acl.canPublish('station', `${R}/ack`), 'station acks')
  t.notOk(acl.canPublish('station', `${R}/alert/x`), 'station cannot raise alerts')
  t.ok(acl.canPublish('kiosk-018', GROUP), 'neighbour publishes on the group alert topic')
  t.notOk(acl.canPublish('kiosk-018', `${R}/alert/x`), 'neighbour cannot publish on the post tree')
  t.notOk(acl.canSubscribe('kiosk-018', 'c', `${R}/alert/+`), 'neighbour cannot read the post tree')
  t.ok(acl.canPublish('demo', `${R}/sim/btn/press`), 'simulator drives twins')
  t.notOk(acl.canPublish('demo', `${R}/cmd/lamp-test`), 'simulator cannot send commands')
  t.notOk(acl.canPublish('demo', `${R}/sim/btn`), 'sim topics have exactly two levels below sim')
})

t.test('a panel cannot widen its reach with wildcards', async (t) => {
  const widen = [
    '#', 'safehouse/#', `safehouse/v1/${SITE}/#`, `${R}/#`, `${R}/+`, `${R}/alert/#`, `${R}/+/counter-btn`,
    `${R}/device/#`, `${R}/device/+/+`, `${R}/+/+/state`, `safehouse/v1/${SITE}/+/alert/+`, `+/v1/${SITE}/${POST}/state`,
    `${R}/cmd/+`, `${R}/cmd-reply/+`,
  ]
  for (const f of widen) t.notOk(acl.canSubscribe('panel-1', 'c', f), f)
  for (const f of ['#', `safehouse/v1/${SITE}/#`, `safehouse/v1/${SITE}/+/alert/+`]) {
    t.notOk(acl.canSubscribe('tech', 'c', f), `technician: ${f}`)
    t.notOk(acl.canSubscribe('station', 'c', f), `station: ${f}`)
  }
  t.ok(acl.canSubscribe('tech', 'c', `${R}/#`), 'technician may read its whole post')
  t.ok(acl.canSubscribe('tech', 'c', R), '...including the post level itself')
  t.notOk(acl.canSubscribe('kiosk-018', 'c', `safehouse/v1/${SITE}/group/+/alert`), 'neighbour: not every group')
})

t.test('another post, site or group is denied for every role', async (t) => {
  const foreign = [
    `${OTHER}/status`, `${OTHER}/alert/x`, `${OTHER}/ack`, `${OTHER}/cmd/lamp-test`, `${OTHER}/sim/x/press`,
    `${OTHER_SITE}/alert/x`, `${OTHER_SITE}/ack`, `${OTHER_SITE}/cmd/lamp-test`,
    `safehouse/v1/${SITE}/kiosk-0170/ack`, `${R}x/alert/x`, OTHER_GROUP, `safehouse/v2/${SITE}/${POST}/ack`,
  ]
  for (const topic of foreign) {
    for (const role of ROLES) {
      t.notOk(acl.canPublish(userOf(role), topic), `${role} publish ${topic}`)
      t.notOk(acl.canSubscribe(userOf(role), 'c', topic), `${role} subscribe ${topic}`)
    }
  }
  t.notOk(acl.canSubscribe('tech', 'c', `${OTHER}/#`))
})

t.test('unknown or missing username: everything is denied', async (t) => {
  for (const u of [undefined, '', 'nobody', 'PANEL-1', 'panel-1 ', '__proto__', 'constructor']) {
    for (const { topic } of topics) {
      t.notOk(acl.canPublish(u, topic), `${String(u)} publish ${topic}`)
      t.notOk(acl.canSubscribe(u, 'c', topic), `${String(u)} subscribe ${topic}`)
    }
    t.notOk(acl.canSubscribe(u, 'c', '#'))
  }
  t.equal(acl.roleOf('nobody'), undefined)
  t.same(acl.roleOf('panel-1'), roleRules(SITE, POST, 'unit-3').panel)
})

t.test('without a group, neighbours get nothing', async (t) => {
  const a = new Acl(users, roleRules(SITE, POST, null))
  for (const topic of [GROUP, OTHER_GROUP, `${R}/alert/x`, `safehouse/v1/${SITE}/group/null/alert`]) {
    t.notOk(a.canPublish('kiosk-018', topic), topic)
    t.notOk(a.canSubscribe('kiosk-018', 'c', topic), topic)
  }
})

t.test('{client} expands to the client id and cannot be widened by a wildcard client id', async (t) => {
  const rules: Record<BrokerRole, RoleRules> = { ...roleRules(SITE, POST, null), panel: { publish: [], subscribe: [`${R}/cmd-reply/{client}`] } }
  const a = new Acl(users, rules)
  t.ok(a.canSubscribe('panel-1', 'screen-1', `${R}/cmd-reply/screen-1`))
  t.notOk(a.canSubscribe('panel-1', 'screen-1', `${R}/cmd-reply/screen-2`))
  t.notOk(a.canSubscribe('panel-1', 'screen-1', `${R}/cmd-reply/+`))
  t.notOk(a.canSubscribe('panel-1', '#', `${R}/cmd-reply/#`), 'client id "#"')
  t.notOk(a.canSubscribe('panel-1', '+', `${R}/cmd-reply/+`), 'client id "+"')
  t.notOk(a.canSubscribe('panel-1', 'x/#', `${R}/cmd-reply/x/y`), 'client id with "/"')
  t.notOk(a.canSubscribe('panel-1', '', `${R}/cmd-reply/`), 'empty client id')
})
