export { createManualClock, type ManualClock } from "@flyte-agent/runtime/internal/core/clock.js";
