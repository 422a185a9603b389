/** The config's `profile` picks the lamp box strategy (lamp-profile.ts). */
import type { LampBoxConfig } from './config.js'
import type { LampProfile } from './lamp-profile.js'
import { GenericDidoProfile } from './generic-dido-profile.js'
import { SafehouseProfile } from './safehouse-profile.js'

export function lampProfile(cfg: LampBoxConfig): LampProfile {
  return cfg.profile === 'safehouse' ? new SafehouseProfile(cfg) : new GenericDidoProfile(cfg)
}
