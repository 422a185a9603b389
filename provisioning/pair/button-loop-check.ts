/**
 * Reading a supervised (end-of-line resistor) loop for the technician
 * (issue 7 §2, docs/devices/panic-button.md §2): the ADC count, the loop
 * resistance it means, and the zone the gateway will see, with the same
 * thresholds the driver computes from the config (loop-supervisor.ts).
 *
 * Divider: reading = adc_max × R_loop / (R_loop + R_ref), so
 * R_loop = R_ref × reading / (adc_max − reading); full scale = open circuit.
 */
import type { PanicButtonConfig } from '../../devices/panic-button/config.js'
import { LOOP_ZONE_NAMES, LoopZone, loopReading, loopThresholds, type LoopThresholds } from '../../devices/panic-button/loop-supervisor.js'

export type LoopSettings = Pick<PanicButtonConfig,
  'loop_ref_ohms' | 'loop_normal_ohms' | 'loop_alarm_ohms' | 'adc_max' | 'loop_short_below' | 'loop_alarm_above' |
  'loop_open_above' | 'loop_hysteresis' | 'debounce_ms'>

/** The driver's thresholds for these settings; throws the config checker's message when they do not fit. */
export function thresholdsFor(s: LoopSettings): LoopThresholds {
  const r = loopThresholds(
    { refOhms: s.loop_ref_ohms, normalOhms: s.loop_normal_ohms, alarmOhms: s.loop_alarm_ohms, adcMax: s.adc_max },
    { shortBelow: s.loop_short_below, alarmAbove: s.loop_alarm_above, openAbove: s.loop_open_above },
    s.loop_hysteresis, s.debounce_ms)
  if (!r.ok) throw new Error(r.error)
  return r.value
}

/** Loop resistance for an ADC reading; Infinity at full scale (open circuit). */
export function loopOhms(reading: number, refOhms: number, adcMax: number): number {
  if (reading >= adcMax) return Infinity
  return (refOhms * Math.max(0, reading)) / (adcMax - reading)
}

export function formatOhms(ohms: number): string {
  if (!Number.isFinite(ohms)) return '∞ Ω'
  if (ohms < 1000) return `${Math.round(ohms)} Ω`
  return `${(ohms / 1000).toFixed(1)} kΩ`
}

export interface LoopReport {
  reading: number
  ohms: number
  zone: (typeof LOOP_ZONE_NAMES)[number]
  /** What the zone means and what to check, for the technician. */
  advice: string
}

/** Classify like LoopSupervisor.classify (no hysteresis: a single look at the loop). */
export function classifyReading(reading: number, th: LoopThresholds): LoopZone {
  if (reading < th.shortBelow) return LoopZone.SHORT
  if (reading >= th.openAbove) return LoopZone.OPEN
  if (reading >= th.alarmAbove) return LoopZone.ALARM
  return LoopZone.NORMAL
}

export function reportLoop(reading: number, s: LoopSettings, th: LoopThresholds): LoopReport {
  const zone = LOOP_ZONE_NAMES[classifyReading(reading, th)]
  const ohms = loopOhms(reading, s.loop_ref_ohms, s.adc_max)
  const normal = formatOhms(s.loop_normal_ohms)
  const expect = `at rest it should read ~${loopReading(s.loop_normal_ohms, { refOhms: s.loop_ref_ohms, normalOhms: s.loop_normal_ohms, alarmOhms: s.loop_alarm_ohms, adcMax: s.adc_max })} (${normal})`
  const advice = {
    normal: 'wiring looks right',
    alarm: `reads as pressed: release the button; if it is not pressed, the end-of-line resistor is missing or the wrong value (${expect})`,
    open: `open circuit: a cut or loose wire, a loose terminal, or no end-of-line resistor fitted (${expect})`,
    short: `short circuit: the cable is shorted, or the end-of-line resistor is bridged (${expect})`,
  }[zone]
  return { reading, ohms, zone, advice }
}

export function describeLoopReport(name: string, r: LoopReport): string {
  return `${name} reads ${r.reading} = ${formatOhms(r.ohms)}: ${r.zone} — ${r.advice}`
}
