/** The demo's names and times, in a module of their own so `demo --help` can print its key hints without loading the demo (issue 13 §5). */
export const DEMO_SITE = 'demo-city'
export const DEMO_POST = 'kiosk-001'
/** The public button raises its alarm only after being held this long (hold-to-confirm)... */
export const DEMO_HOLD_MS = 1500
/** ...and the demo's `h` key holds it this long, past the hold time. */
export const DEMO_HOLD_PRESS_MS = 2000
