import t from 'tap'
import { isTopicLevel, PostTopics, PROTOCOL_ROOT } from '../../../protocols/mqtt/topics.js'

t.test('PostTopics builds the documented tree (docs/protocol.md §Topics)', async (t) => {
  const p = new PostTopics('sh-huangpu', 'kiosk-017')
  const R = 'safehouse/v1/sh-huangpu/kiosk-017'
  t.equal(PROTOCOL_ROOT, 'safehouse/v1')
  const table: Array<[string, string, string]> = [
    ['root', p.root, R],
    ['status', p.status, `${R}/status`],
    ['state', p.state, `${R}/state`],
    ['ack', p.ack, `${R}/ack`],
    ['alert', p.alert('counter-btn'), `${R}/alert/counter-btn`],
    ['alertFilter', p.alertFilter, `${R}/alert/+`],
    ['deviceState', p.deviceState('whistle-07'), `${R}/device/whistle-07/state`],
    ['cmd', p.cmd('lamp-test'), `${R}/cmd/lamp-test`],
    ['cmdPrefix', p.cmdPrefix, `${R}/cmd/`],
    ['cmdFilter', p.cmdFilter, `${R}/cmd/+`],
    ['cmdReply', p.cmdReply('tech-laptop'), `${R}/cmd-reply/tech-laptop`],
    ['cmdReplyPrefix', p.cmdReplyPrefix, `${R}/cmd-reply/`],
    ['sim', p.sim('btn', 'press'), `${R}/sim/btn/press`],
    ['simFilter', p.simFilter, `${R}/sim/+/+`],
    ['groupAlert', p.groupAlert('unit-3'), 'safehouse/v1/sh-huangpu/group/unit-3/alert'],
  ]
  for (const [name, got, want] of table) t.equal(got, want, name)
  t.equal(p.site, 'sh-huangpu')
  t.equal(p.post, 'kiosk-017')
})

t.test('invalid site or post is rejected', async (t) => {
  const bad: Array<[string, string, RegExp]> = [
    ['', 'p', /site "" is not a valid topic level/],
    ['s', '', /post "" is not a valid topic level/],
    ['a/b', 'p', /site "a\/b"/],
    ['s', 'kiosk/1', /post "kiosk\/1"/],
    ['+', 'p', /site "\+"/],
    ['s', '#', /post "#"/],
    ['Upper', 'p', /site "Upper"/],
    ['s', 'under_score', /post "under_score"/],
    ['-lead', 'p', /site "-lead"/],
    ['s', 'a'.repeat(33), /post "a{33}"/],
    ['$sys', 'p', /site "\$sys"/],
    ['s', 'kiosk 1', /post "kiosk 1"/],
    ['s', 'group', /post "group" is reserved/],
  ]
  for (const [site, post, msg] of bad) t.throws(() => new PostTopics(site, post), { message: msg }, `${JSON.stringify(site)} / ${JSON.stringify(post)}`)
  t.doesNotThrow(() => new PostTopics('a', 'b'.repeat(32)), 'a 32-char level is fine')
  t.doesNotThrow(() => new PostTopics('0', '9-9'), 'digits and dashes are fine')
  t.doesNotThrow(() => new PostTopics('group', 'groups'), '"group" is only reserved as a post')
})

t.test('isTopicLevel', async (t) => {
  for (const ok of ['a', 'kiosk-017', '0', 'a-']) t.ok(isTopicLevel(ok), ok)
  for (const bad of ['', 'A', 'a/b', 'a+', 'a#', '-a', 'a b', 'ä']) t.notOk(isTopicLevel(bad), JSON.stringify(bad))
})

t.test('relative() splits topics under this post, null for others', async (t) => {
  const p = new PostTopics('sh-huangpu', 'kiosk-1')
  const table: Array<[string, string[] | null]> = [
    ['safehouse/v1/sh-huangpu/kiosk-1/ack', ['ack']],
    ['safehouse/v1/sh-huangpu/kiosk-1/cmd/lamp-test', ['cmd', 'lamp-test']],
    ['safehouse/v1/sh-huangpu/kiosk-1/sim/btn/press', ['sim', 'btn', 'press']],
    ['safehouse/v1/sh-huangpu/kiosk-1/', ['']],
    ['safehouse/v1/sh-huangpu/kiosk-1', null],
    ['safehouse/v1/sh-huangpu/kiosk-17/ack', null],
    ['safehouse/v1/sh-huangpu/kiosk-2/ack', null],
    ['safehouse/v1/sh-minhang/kiosk-1/ack', null],
    ['safehouse/v2/sh-huangpu/kiosk-1/ack', null],
    ['safehouse/v1/sh-huangpu/group/g/alert', null],
    ['', null],
  ]
  for (const [topic, want] of table) t.same(p.relative(topic), want, topic || '(empty)')
})
