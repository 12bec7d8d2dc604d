export {
  checkConformance,
  ConformanceProtocol,
  type ProtocolState,
  type CheckStatus,
  type ConformanceCheck,
  type ConformanceOptions,
  type ConformanceReport,
} from "./check-conformance.js";
export { ConformanceRule, type ConformanceRuleId } from "./rules.js";
export { PROBE_SECRET } from "./check-connector.js";
