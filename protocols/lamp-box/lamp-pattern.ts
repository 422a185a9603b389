/**
 * What the lamp box on a post's roof can show (issue 5; meanings in
 * docs/devices/lamp-box.md). Part of the contract, not of a driver: the
 * register map encodes these, the gateway picks one, the retained state names
 * it, so it lives at the lowest layer that needs it (DESIGN §2, issue 18).
 */
export type LampPattern = 'normal' | 'alarm' | 'neighbour-alarm' | 'acknowledged' | 'test' | 'off'
