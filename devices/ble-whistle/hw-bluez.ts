/**
 * BLE transport over BlueZ on the D-Bus system bus (issue 4 §2, §5). Only
 * hw-bluez-bus.ts and hw-bluez-discovery.ts (and types here) import dbus-next.
 *
 * Flow (each step's BlueZ doc: doc/org.bluez.Adapter.rst, Device.rst):
 *   connect bus -> AddMatch (4 rules for the whole tree) -> GetNameOwner(org.bluez)
 *   -> GetManagedObjects (find the adapter; devices already there = cached)
 *   -> Powered=true if off -> SetDiscoveryFilter{le, DuplicateData} -> StartDiscovery
 *   -> check Discovering; then never stop (no duty cycling: a press lasts ~100 ms).
 * Signals then drive everything: Device1 PropertiesChanged / InterfacesAdded
 * -> RawAdvert (bluez-advert-stream.ts); Adapter1 removed/added, Powered or
 * Discovering dropping, and org.bluez changing owner (bluetoothd restart) ->
 * reconcile again. Failures are faults with a technician message
 * (bluez-errors.ts) and a jittered, growing retry; never a thrown start().
 */
import type { MessageBus, Message } from 'dbus-next'
import type { Logger } from 'pino'
import type { TimerHandle } from '../time/clock.js'
import { Kind } from '../../protocols/event-kinds.js'
import type { DeviceDriver, DriverContext } from '../device-driver.js'
import type { AdvertHandler } from './raw-advert.js'
import { BluezAdvertStream } from './bluez-advert-stream.js'
import { closeBus, connectBus } from './hw-bluez-bus.js'
import { ADAPTER1, BluezCalls, DEVICE1, OBJECT_MANAGER, PROPERTIES, DBUS_NAME, BLUEZ, matchRules } from './hw-bluez-discovery.js'
import { explainBluezError, explainConnectError, explainNoAdapter, errorText, type BluezFault } from './bluez-errors.js'
import { adapterPath, unwrapVariant } from './bluez-variants.js'
import { DiscoveryWatchdog, type WatchdogStep } from './bluez-watchdog.js'
import { linkOf, type BluezState, type HwBluezOptions } from './hw-bluez-options.js'

export { hwBluezOptionsFromConfig, type BluezState, type HwBluezOptions } from './hw-bluez-options.js'

const SIGNAL = 4 // dbus-next MessageType.SIGNAL (D-Bus spec: message type 4)

export class HwBluezDriver implements DeviceDriver {
  readonly kind = 'ble-whistle' as const
  private readonly path: string
  private readonly stream: BluezAdvertStream
  private readonly watchdog: DiscoveryWatchdog
  private log: Logger
  private bus: MessageBus | null = null
  private calls: BluezCalls | null = null
  private owner: string | null = null
  private loadCached = false
  private ownOp = false
  private stopped = true
  private state: BluezState = 'stopped'
  private reason = ''
  private queue: Promise<void> = Promise.resolve()
  private reconcileQueued = false
  private retryTimer: TimerHandle | null = null
  private retryAttempt = 0

  constructor(private readonly ctx: DriverContext, handler: AdvertHandler, private readonly opts: HwBluezOptions) {
    this.path = adapterPath(opts.adapter)
    this.log = ctx.log
    this.stream = new BluezAdvertStream(ctx.clock, handler, this.path, () => this.watchdog.kick(), (e) => {
      ctx.sink.count(opts.gatewayDevice, 'ble_handler_error')
      this.log.warn({ err: errorText(e) }, 'advertisement handler threw')
    })
    const supervised = opts.supervisedAdvertMs ?? 0
    this.watchdog = new DiscoveryWatchdog(ctx.clock, {
      silenceMs: opts.devicesExpected && opts.watchdogSilenceMs > 0 ? Math.max(opts.watchdogSilenceMs, supervised) : 0,
      stepMs: opts.watchdogStepMs,
      escalate: supervised > 0,
    }, {
      restartDiscovery: () => this.ownAction(false),
      powerCycle: () => this.ownAction(true),
      trouble: (silentMs) => {
        const reason = `no BLE advertisement for ${Math.round(silentMs / 1000)} s on ${opts.adapter} after restarting discovery and power-cycling the adapter`
        this.log.error({ adapter: opts.adapter, silentMs }, 'BLE scanning trouble: no advertisements')
        ctx.sink.input(opts.gatewayDevice, Kind.GATEWAY_TROUBLE, silentMs / 1000, ctx.clock.now(), NaN, -1)
        ctx.sink.linkStatus(opts.gatewayDevice, 'fault', reason)
      },
      restored: () => {
        this.log.warn({ adapter: opts.adapter }, 'BLE advertisements flowing again')
        // value = the kind cleared (docs/protocol.md §Alert): clears gateway_trouble from the state.
        ctx.sink.input(opts.gatewayDevice, Kind.RESTORED, Kind.GATEWAY_TROUBLE, ctx.clock.now(), NaN, -1)
        ctx.sink.linkStatus(opts.gatewayDevice, linkOf(this.state), 'advertisements flowing again')
      },
      actionFailed: (step: WatchdogStep, e) => this.log.warn({ step, err: errorText(e) }, 'watchdog action failed'),
    })
  }

  /** For tests, status output and the provisioning CLI. */
  status(): { state: BluezState; reason: string; watchdogStep: number; watchdog: DiscoveryWatchdog['counts']; adverts: BluezAdvertStream['stats'] } {
    return { state: this.state, reason: this.reason, watchdogStep: this.watchdog.currentStep, watchdog: this.watchdog.counts, adverts: this.stream.stats }
  }

  async start(signal: AbortSignal): Promise<void> {
    if (signal.aborted || !this.stopped) return
    this.stopped = false
    this.log = this.ctx.log.child({ driver: 'bluez', adapter: this.opts.adapter })
    signal.addEventListener('abort', () => { void this.stop() }, { once: true })
    this.watchdog.start()
    await this.connect()
    await this.queue
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.watchdog.stop()
    if (this.retryTimer !== null) this.ctx.clock.clearTimeout(this.retryTimer)
    this.retryTimer = null
    // BlueZ ends our discovery session itself when our connection leaves the bus.
    this.dropBus()
    await this.queue
    this.setState('stopped', 'stopped')
  }

  // --- bus connection -------------------------------------------------------

  private async connect(): Promise<void> {
    if (this.stopped || this.bus) return
    this.setState('connecting', 'connecting to the D-Bus system bus')
    let bus: MessageBus
    try {
      bus = await connectBus(this.opts.busAddress, this.ctx.clock, this.opts.callTimeoutMs, (b, why) => this.onBusLost(b, why))
    } catch (e) {
      this.fault(explainConnectError(e, this.opts.busAddress))
      this.scheduleRetry()
      return
    }
    if (this.stopped) { closeBus(bus); return }
    this.bus = bus
    try {
      bus.on('message', this.onMessage)
      const calls = new BluezCalls(bus, this.ctx.clock, this.opts.callTimeoutMs)
      for (const rule of matchRules(this.path)) await calls.addMatch(rule)
      this.owner = await calls.bluezOwner()
      if (this.bus !== bus) return
      this.calls = calls
      this.loadCached = true
      this.log.info({ bus: this.opts.busAddress || 'system', bluez: this.owner }, 'connected to D-Bus')
      this.requestReconcile()
    } catch (e) {
      if (this.bus !== bus) return
      this.dropBus()
      this.fault(explainBluezError(e, this.opts.adapter))
      this.scheduleRetry()
    }
  }

  private onBusLost(bus: MessageBus, why: string): void {
    if (this.bus !== bus || this.stopped) return
    this.dropBus()
    this.fault({ kind: 'no-bus', message: `lost the D-Bus system bus (${why}): reconnecting; if it keeps happening check systemctl status dbus` })
    this.scheduleRetry()
  }

  private dropBus(): void {
    const bus = this.bus
    this.bus = null
    this.calls = null
    this.owner = null
    this.stream.clear()
    if (bus) {
      bus.removeListener('message', this.onMessage)
      closeBus(bus)
    }
  }

  // --- signals (hot path) ---------------------------------------------------

  private readonly onMessage = (msg: Message): void => {
    if (msg.type !== SIGNAL) return
    const iface = msg.interface
    const body = msg.body
    if (iface === PROPERTIES) {
      // Only the current org.bluez owner; a unicast signal from anyone else is not an advertisement.
      if (msg.sender !== this.owner) return
      if (body[0] === DEVICE1) this.stream.propertiesChanged(msg.path, body[1] as Record<string, unknown>)
      else if (body[0] === ADAPTER1 && msg.path === this.path) this.onAdapterProps(body[1] as Record<string, unknown>)
    } else if (iface === OBJECT_MANAGER) {
      if (msg.sender !== this.owner) return
      if (msg.member === 'InterfacesAdded') this.onAdded(body[0] as string, body[1] as Record<string, Record<string, unknown>>)
      else if (msg.member === 'InterfacesRemoved') this.onRemoved(body[0] as string, body[1] as string[])
    } else if (iface === DBUS_NAME && msg.member === 'NameOwnerChanged' && body[0] === BLUEZ && msg.sender === DBUS_NAME) {
      this.onOwnerChanged(body[2] as string)
    }
  }

  private onAdded(path: string, ifaces: Record<string, Record<string, unknown>>): void {
    const dev = ifaces[DEVICE1]
    if (dev !== undefined) this.stream.deviceAdded(path, dev, false)
    else if (path === this.path && ifaces[ADAPTER1] !== undefined) {
      this.log.warn('adapter appeared; setting up discovery')
      this.setState('starting', `adapter ${this.opts.adapter} returned`)
      this.requestReconcile()
    }
  }

  private onRemoved(path: string, ifaces: string[]): void {
    if (ifaces.includes(DEVICE1)) this.stream.deviceRemoved(path)
    else if (path === this.path && ifaces.includes(ADAPTER1)) {
      this.stream.clear()
      this.fault(explainNoAdapter(this.opts.adapter, []))
    }
  }

  private onOwnerChanged(newOwner: string): void {
    this.stream.clear()
    if (newOwner === '') {
      this.owner = null
      this.fault({ kind: 'no-bluetoothd', message: 'bluetoothd left the bus (stopped or crashed): waiting for it to return; sudo systemctl status bluetooth' })
      return
    }
    this.owner = newOwner
    this.setState('starting', 'bluetoothd (re)started')
    this.requestReconcile()
  }

  private onAdapterProps(changed: Record<string, unknown>): void {
    if (this.ownOp) return
    if (unwrapVariant(changed.Powered) === false || unwrapVariant(changed.Discovering) === false) {
      // Someone powered the adapter off or discovery stopped (another tool, a
      // controller reset): get it back, after a short delay so we do not fight.
      this.setState('starting', 'adapter powered off or discovery stopped by someone else; restarting')
      this.scheduleRetry()
    }
  }

  // --- reconcile: make the adapter scan ------------------------------------

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const next = this.queue.then(fn)
    this.queue = next.catch(() => {})
    return next
  }

  private requestReconcile(): void {
    if (this.reconcileQueued) return
    this.reconcileQueued = true
    void this.enqueue(async () => { this.reconcileQueued = false; await this.reconcile() })
  }

  /** Watchdog step: restart discovery, or power-cycle the adapter first. */
  private ownAction(powerCycle: boolean): Promise<void> {
    return this.enqueue(async () => {
      const calls = this.calls
      if (!calls) throw new Error('no D-Bus connection to bluetoothd')
      this.ownOp = true
      try {
        await calls.stopDiscovery(this.path)
        if (powerCycle) {
          this.log.warn('power-cycling the adapter')
          await calls.setPowered(this.path, false)
          await calls.setPowered(this.path, true)
        }
      } finally {
        this.ownOp = false
      }
      await this.reconcile()
    })
  }

  private async reconcile(): Promise<void> {
    const calls = this.calls
    if (!calls || this.stopped) return
    try {
      if (this.owner === null) this.owner = await calls.bluezOwner()
      if (this.owner === null) {
        // NameOwnerChanged brings us back when bluetoothd starts.
        this.fault(explainBluezError({ type: 'org.freedesktop.DBus.Error.NameHasNoOwner' }, this.opts.adapter))
        return
      }
      const objects = await calls.managedObjects()
      if (calls !== this.calls) return
      const adapter = objects[this.path]?.[ADAPTER1]
      if (adapter === undefined) {
        const found = Object.keys(objects).filter((p) => objects[p][ADAPTER1] !== undefined).map((p) => p.slice(p.lastIndexOf('/') + 1))
        this.fault(explainNoAdapter(this.opts.adapter, found)) // InterfacesAdded(Adapter1) brings us back
        return
      }
      if (this.loadCached) {
        this.loadCached = false
        for (const p of Object.keys(objects)) {
          const dev = objects[p][DEVICE1]
          if (dev !== undefined) this.stream.deviceAdded(p, dev as unknown as Record<string, unknown>, true)
        }
      }
      if (adapter.Powered?.value !== true) {
        this.log.info('powering the adapter on')
        await calls.setPowered(this.path, true)
      }
      await calls.setDiscoveryFilter(this.path)
      const started = await calls.startDiscovery(this.path)
      if (await calls.adapterProperty(this.path, 'Discovering') !== true) {
        this.fault({ kind: 'other', message: `discovery on ${this.opts.adapter} did not start (StartDiscovery: ${started}); another program may hold the controller (hcitool lescan?); retrying` })
        this.scheduleRetry()
        return
      }
      this.retryAttempt = 0
      this.setState('scanning', started === 'in-progress' ? 'scanning (discovery was already in progress)' : 'scanning')
    } catch (e) {
      if (calls !== this.calls) return
      const f = explainBluezError(e, this.opts.adapter)
      if (f.kind === 'no-bluetoothd') this.owner = null
      this.fault(f)
      this.scheduleRetry()
    }
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer !== null) return
    const base = Math.min(this.opts.retryMaxMs, this.opts.retryMinMs * 2 ** Math.min(this.retryAttempt, 16))
    this.retryAttempt++
    const delay = Math.round(base * (0.8 + 0.4 * Math.random()))
    this.retryTimer = this.ctx.clock.setTimeout(() => {
      this.retryTimer = null
      if (this.stopped) return
      if (this.bus === null) void this.connect()
      else this.requestReconcile()
    }, delay)
  }

  // --- state reporting ------------------------------------------------------

  private fault(f: BluezFault): void {
    this.setState(f.kind, f.message)
  }

  private setState(state: BluezState, reason: string): void {
    if (state === this.state && reason === this.reason) return
    const link = linkOf(state)
    // Counted, so an outage that is over before anyone looks still shows (issue 11 §7).
    if (link === 'fault' && linkOf(this.state) !== 'fault') this.ctx.sink.count(this.opts.gatewayDevice, 'ble_transport_faults')
    this.state = state
    this.reason = reason
    if (link === 'fault') this.log.error({ state, reason }, 'BLE transport fault')
    else this.log.info({ state, reason }, 'BLE transport state')
    this.ctx.sink.linkStatus(this.opts.gatewayDevice, link, reason)
  }
}
