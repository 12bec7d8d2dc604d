export {
  checkConformance,
  type CheckStatus,
  type ConformanceCheck,
  type ConformanceOptions,
  type ConformanceReport,
} from "./check-conformance.js";
export { ConformanceRule, type ConformanceRuleId } from "./rules.js";
