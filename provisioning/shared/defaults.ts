/**
 * Constants the commands' --help texts name, in a module that imports nothing:
 * a command's help must not load yaml, the config loader or a broker client
 * (issue 13 §5: every `CMD --help` within 250 ms).
 */

/** Where `safehouse init` puts the site config, and where every command looks without --config. */
export const DEFAULT_CONFIG = '/etc/safehouse/config.yaml'

/** The environment variable a tool reads a broker password from. */
export const PASSWORD_ENV = 'SAFEHOUSE_PASSWORD'
