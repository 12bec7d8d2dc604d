export {
  parsePropellerConfig,
  parseGoDuration,
  deadlineFor,
  RpcOperation,
  type AgentDeployment,
  type PropellerAgentConfig,
} from "./propeller-config.js";
