export { parseYaml, YamlError, type YamlDocument, type YamlMap, type YamlScalar, type YamlValue } from './yaml.js';
export {
  ConfigError,
  defaultConfig,
  IDLE_BOUNDS,
  IDLE_YAML_KEYS,
  minSamplesProblem,
  windowCapacity,
  loadConfig,
  LOG_LEVELS,
  parseConfig,
  renderDefaultConfig,
  type AgentConfig,
  type IdleBound,
  type LoadedConfig,
  type LogLevel,
} from './schema.js';
export { createLogger, type Logger } from './logger.js';
