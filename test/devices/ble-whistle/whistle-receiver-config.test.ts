import t from 'tap'
import { Ajv } from 'ajv'
import { FakeClock } from '../../../devices/time/clock.js'
import { BLE_WHISTLE_DEFAULTS, bleWhistleConfigSchema } from '../../../devices/ble-whistle/config.js'
import { MemoryReplayCounterStore } from '../../../devices/ble-whistle/replay-store.js'
import { WhistleReceiver } from '../../../devices/ble-whistle/whistle-receiver.js'
import { config, RecordingSink } from './whistle-receiver-fixtures.js'

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false })
const validate = ajv.compile(bleWhistleConfigSchema)

t.test('schema defaults equal BLE_WHISTLE_DEFAULTS; every property is described', async (t) => {
  const c = { id: 'w1', kind: 'ble-whistle' }
  t.ok(validate(c), JSON.stringify(validate.errors))
  t.same(c, { id: 'w1', kind: 'ble-whistle', ...BLE_WHISTLE_DEFAULTS })
  for (const [name, p] of Object.entries(bleWhistleConfigSchema.properties)) {
    if (name === 'kind') continue
    t.ok('description' in p && p.description.length > 10, `${name} has a description`)
    if (name !== 'id') t.ok('default' in p, `${name} has a default`)
  }
})

t.test('schema rejects bad values', async (t) => {
  for (const bad of [
    { key_ref: 'has space' },
    { format: 'altbeacon' },
    { long_press_kind: 'explode' },
    { dedupe_window_ms: 10 },
    { ibeacon_uuid: 'xyz' },
    { ibeacon_press_minor: 70000 },
    { counter_reset: 'sometimes' },
  ]) t.notOk(validate({ id: 'w1', kind: 'ble-whistle', ...bad }), JSON.stringify(bad))
  t.ok(validate({ id: 'w1', kind: 'ble-whistle', ibeacon_uuid: '83256b7478d043a4826905f9dc8a44ba' }), 'UUID without dashes')
})

t.test('every long_press_kind value maps to a Kind', async (t) => {
  for (const v of bleWhistleConfigSchema.properties.long_press_kind.enum) {
    t.doesNotThrow(() => new WhistleReceiver({
      devices: [{ index: 0, config: config({ id: 'w', address: '3C:2E:F5:00:00:01', long_press_kind: v }) }],
      sink: new RecordingSink(), clock: new FakeClock(), replayStore: new MemoryReplayCounterStore(),
    }), v)
  }
})
