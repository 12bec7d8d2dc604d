export { createManualClock, type ManualClock } from "../core/clock.js";
