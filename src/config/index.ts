/** The configuration room: schema with defaults, loading, clear errors. */
export { type Config, type LogLevel, DEFAULT_SQLITE_PATH, DEFAULT_DEADLINE_MS, DEFAULT_CAMPAIGN_ID } from './schema';
export { ConfigError, DEFAULT_CONFIG_PATH, loadConfig, parseConfig, resolveConfigPath, type Problem } from './load';
