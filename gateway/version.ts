/** The gateway's version, reported in its status and state (kept in step with package.json). */
export const VERSION = '0.1.0'
