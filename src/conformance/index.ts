export {
  checkConformance,
  type CheckStatus,
  type ConformanceCheck,
  type ConformanceOptions,
  type ConformanceReport,
} from "./check-conformance.js";
export { ConformanceRule, PropellerDeadlines, type ConformanceRuleId } from "./rules.js";
export { CallFailure, ProbeClient, type Timed } from "./probe-client.js";
