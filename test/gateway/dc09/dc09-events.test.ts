/** Issue 17 §2: the mapping from a queued alert to the DC-09 data field, with per-kind overrides. */
import t from 'tap'
import { Dc09EventMapper } from '../../../gateway/dc09/dc09-events.js'
import { Kind } from '../../../protocols/event-kinds.js'

const rec = (kind: string, value: number | null, zone = 4) => Buffer.from(JSON.stringify({ kind, value, zone, hw_time: 0, test: false }))
const base = { token: 'ADM-CID' as const, partition: 2, account: 'ABC', mapping: {} }

t.test('defaults, restores as the restore of the cleared kind, zones padded', async (t) => {
  const cid = new Dc09EventMapper(base)
  t.equal(cid.data(rec('whistle', 1)), '#ABC|1123 02 004')
  t.equal(cid.data(rec('restored', Kind.MAINS_LOST)), '#ABC|3301 02 004')
  t.equal(cid.data(rec('restored', Kind.DEVICE_FAULT + 256 * 3)), '#ABC|3333 02 004', 'detail in the upper bits is ignored')
  t.equal(cid.data(rec('restored', null, 0)), '#ABC|3300 02 000', 'no cleared kind: the gateway trouble restored')
  const sia = new Dc09EventMapper({ ...base, token: 'SIA-DCS' })
  t.equal(sia.data(rec('restored', Kind.LOW_BATTERY, 12)), '#ABC|Nri2/XR012')
  t.equal(sia.data(rec('restored', Kind.TEST)), null, 'a kind without a SIA restore code has nothing to send')
  t.equal(sia.data(Buffer.from('{not json')), null)
})

t.test('per-kind overrides replace only the fields they name', async (t) => {
  const m = new Dc09EventMapper({ ...base, token: 'SIA-DCS', mapping: { whistle: { sia: 'HA' }, tamper: { sia_restore: null } } })
  t.equal(m.data(rec('whistle', 1)), '#ABC|Nri2/HA004')
  t.same(m.code('whistle'), { cid: '123', sia: 'HA', siaRestore: 'PR' })
  t.equal(m.data(rec('restored', Kind.TAMPER)), null)
  const c = new Dc09EventMapper({ ...base, mapping: { whistle: { cid: '120' }, check_in: { cid: '603' } } })
  t.equal(c.data(rec('whistle', 1)), '#ABC|1120 02 004')
  t.equal(c.data(rec('check_in', null)), '#ABC|1603 02 004')
})
