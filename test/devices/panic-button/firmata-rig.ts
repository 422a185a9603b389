/**
 * Real-stack rig: socat PTY pair, FirmataPeer on one end, the firmata driver
 * (johnny-five + firmata-io + serialport) on the other, a RecordingSink.
 */
import pino from 'pino'
import type { Test } from 'tap'
import { PtyPair } from '../../harness/pty-pair.js'
import { FirmataPeer, type FirmataPeerOptions } from '../../harness/firmata-peer.js'
import { RecordingSink } from './recording-sink.js'
import { FirmataPanicButtonDriver } from '../../../devices/panic-button/hw-firmata.js'
import { firmataBoardDefaults, type FirmataBoardConfig } from '../../../devices/panic-button/board-config.js'
import { panicButtonDefaults, type PanicButtonConfig } from '../../../devices/panic-button/config.js'
import { systemClock } from '../../../devices/time/clock.js'

export interface Rig {
  pty: PtyPair
  peer: FirmataPeer | null
  sink: RecordingSink
  driver: FirmataPanicButtonDriver
  ids: string[]
  /** Device index of a button id. */
  dev(id: string): number
  /** (Re)start the peer on the PTY's far end. */
  startPeer(opts?: FirmataPeerOptions): Promise<FirmataPeer>
}

/** Fast test timings; a real board keeps the defaults. */
export const testBoard = (port: string, over: Partial<FirmataBoardConfig> = {}): FirmataBoardConfig =>
  firmataBoardDefaults('main', port, { version_query_ms: 100, handshake_timeout_ms: 3000, reconnect_min_ms: 100, reconnect_max_ms: 800, ...over })

export async function rig(t: Test, buttons: Array<Partial<PanicButtonConfig> & { id: string }>, opts: {
  board?: Partial<FirmataBoardConfig>; peer?: FirmataPeerOptions | false
} = {}): Promise<Rig> {
  const pty = await new PtyPair('panic').open()
  const sink = new RecordingSink()
  const ids = buttons.map((b) => b.id)
  const r: Rig = {
    pty, peer: null, sink, ids,
    driver: new FirmataPanicButtonDriver({
      boards: [testBoard(pty.a, opts.board)],
      buttons: buttons.map((b, index) => ({ index, config: panicButtonDefaults(b.id, { driver: 'firmata', ...b }) })),
    }, { clock: systemClock, log: pino({ level: 'silent' }), sink }),
    dev: (id) => ids.indexOf(id),
    async startPeer(o) {
      if (r.peer) await r.peer.close()
      r.peer = await FirmataPeer.open(pty.b, o)
      return r.peer
    },
  }
  t.teardown(async () => {
    await r.driver.stop()
    await r.peer?.close()
    await pty.close()
  })
  if (opts.peer !== false) await r.startPeer(opts.peer || {})
  return r
}

/** Start the driver and wait until every button is online and its pin reported. */
export async function online(r: Rig): Promise<void> {
  await r.driver.start(new AbortController().signal)
  await r.sink.until(() => r.ids.every((_, i) => r.sink.lastLink(i)?.status === 'online'), 'all buttons online')
}

export const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms))
