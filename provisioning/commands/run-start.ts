/**
 * What `safehouse run` loads before its embedded broker listens, behind one
 * dynamic import (issue 13 §5): each dynamic import is an entry of its own for
 * the bundle (provisioning/build/bundle-cli.ts), and six of them made 27 chunk
 * files to resolve, read and link before the listen; behind one it is 22.
 * openGateway loads the rest of the gateway once the broker listens.
 */
export { loadConfig } from '../../gateway/config/load-config.js'
export { ConfigError } from '../../gateway/config/config-error.js'
export { validatorCacheState } from '../../gateway/config/config-validator.js'
export { loadSecrets } from '../../gateway/config/secrets.js'
export { createLogger } from '../../gateway/logging.js'
export { openGateway } from '../../gateway/open-gateway.js'
