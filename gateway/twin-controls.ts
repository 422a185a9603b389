/**
 * Remote controls for the simulated twins: what the demo's keys, the
 * `safehouse simulate` command and the sim/ topics can do to each device.
 */
import type { SimControl } from './driver-factory.js'
import type { SimPanicButtonDriver } from '../devices/panic-button/sim-panic-button.js'
import type { SimBleWhistle } from '../devices/ble-whistle/sim-ble-whistle.js'
import { BTHOME_BUTTON } from '../devices/ble-whistle/sim-ble-whistle.js'
import type { BleWhistleConfig } from '../devices/ble-whistle/config.js'
import type { SimLampBox } from '../devices/lamp-box/sim-lamp-box.js'

export function panicTwinControl(sim: SimPanicButtonDriver, id: string): SimControl {
  const actions = ['press', 'hold', 'cut', 'short', 'restore', 'unplug', 'replug'] as const
  return {
    actions,
    act(action, arg) {
      switch (action) {
        case 'press':
        case 'hold':
          // A press while the last one is still held is no new edge, on a real button as on the twin: say
          // so instead of answering "accepted" and raising nothing.
          if (sim.isPressed(id)) return `${id} is still held down from the last press, so this press is no new edge and raises no alert; press again once it is released`
          return sim.press(id, action === 'hold' ? arg ?? 2000 : undefined) ? null : `no button ${id}`
        case 'cut': return sim.cut(id) ? null : `${id} is a plain contact: only an end-of-line supervised loop can detect a cut wire`
        case 'short': return sim.short(id) ? null : `${id} is a plain contact: only an end-of-line supervised loop can detect a short`
        case 'restore': return sim.restore(id) ? null : `${id} is a plain contact`
        case 'unplug': sim.unplug(); return null
        case 'replug': sim.replug(); return null
        default: return `unknown action "${action}" for a panic button; use ${actions.join(', ')}`
      }
    },
  }
}

export function whistleTwinControl(sim: SimBleWhistle, c: BleWhistleConfig, keyHex: string | null): SimControl {
  const actions = ['press', 'blow', 'long', 'battery'] as const
  // A real button increments its packet id per press (BTHome object 0x00) and its counter per packet.
  let packetId = Math.floor(Math.random() * 200)
  let counter = Math.floor(Date.now() / 1000) % 1_000_000
  const key = keyHex ? Buffer.from(keyHex, 'hex') : undefined
  const burst = (button: number): null => {
    packetId = (packetId + 1) & 0xff
    sim.pressBurst(c.address, { packetId, button, battery: 92, repeats: 5, spanMs: 100, rssi: -62, key, counter: key ? ++counter : undefined })
    return null
  }
  return {
    actions,
    act(action, arg) {
      switch (action) {
        case 'press':
        case 'blow': return burst(BTHOME_BUTTON.PRESS)
        case 'long': return burst(BTHOME_BUTTON.LONG)
        case 'battery':
          packetId = (packetId + 1) & 0xff
          return sim.battery(c.address, arg ?? 15, packetId) ? null : 'the simulated radio is not running'
        default: return `unknown action "${action}" for a BLE whistle; use ${actions.join(', ')}`
      }
    },
  }
}

export function lampTwinControl(sim: SimLampBox): SimControl {
  const actions = ['mains-off', 'mains-on', 'door-open', 'door-close', 'dark', 'light', 'unplug', 'replug', 'silent', 'answer'] as const
  return {
    actions,
    act(action) {
      const m = sim.model
      switch (action) {
        case 'mains-off': m.mainsOk = false; return null
        case 'mains-on': m.mainsOk = true; return null
        case 'door-open': m.doorOpen = true; return null
        case 'door-close': m.doorOpen = false; return null
        case 'dark': m.dark = true; return null
        case 'light': m.dark = false; return null
        case 'unplug': sim.unplug(); return null
        case 'replug': sim.replug(); return null
        case 'silent': sim.setSilent(true); return null
        case 'answer': sim.setSilent(false); return null
        default: return `unknown action "${action}" for the lamp box; use ${actions.join(', ')}`
      }
    },
  }
}
