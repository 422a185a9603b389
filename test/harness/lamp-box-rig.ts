/**
 * One real-stack lamp-box rig: a socat PTY pair, the Modbus slave on end b,
 * HwModbusLampBox (modbus-serial + serialport) on end a, a recording sink.
 * Everything is torn down by close(), which tests register with t.teardown.
 */
import pino from 'pino'
import { PtyPair } from './pty-pair.js'
import { LampBoxSlave } from './lamp-box-slave.js'
import { RecordingSink } from './lamp-box-sink.js'
import { systemClock } from '../../devices/time/clock.js'
import { lampBoxDefaults, type LampBoxConfigOverrides } from '../../devices/lamp-box/config.js'
import { HwModbusLampBox } from '../../devices/lamp-box/hw-modbus.js'
import { LampBoxControllerModel } from '../../devices/lamp-box/controller-model.js'

export interface LampBoxRig {
  pty: PtyPair
  slave: LampBoxSlave
  sink: RecordingSink
  driver: HwModbusLampBox
  abort: AbortController
  close(): Promise<void>
}

export async function lampBoxRig(over: Partial<LampBoxConfigOverrides> = {}, slaveUnit = 1, seed = 1): Promise<LampBoxRig> {
  const pty = await new PtyPair('lampbox').open()
  const cfg = lampBoxDefaults({
    id: 'roof', driver: 'modbus', port: pty.a, poll_ms: 100, timeout_ms: 250, supervision_s: 2, confirm_polls: 2, ...over,
  })
  const model = new LampBoxControllerModel({ profile: cfg.profile, unitId: slaveUnit, generic: cfg.generic })
  const slave = new LampBoxSlave(pty.b, model, seed)
  const sink = new RecordingSink()
  const driver = new HwModbusLampBox(cfg, 0, { clock: systemClock, log: pino({ level: 'silent' }), sink })
  const abort = new AbortController()
  let closed = false
  const rig: LampBoxRig = {
    pty, slave, sink, driver, abort,
    async close() {
      if (closed) return
      closed = true
      abort.abort()
      await driver.stop()
      await slave.close()
      await pty.close()
    },
  }
  try {
    await slave.open()
  } catch (e) {
    await rig.close()
    throw e
  }
  return rig
}
