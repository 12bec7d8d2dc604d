// Loaded by `flyte-agent serve agent --modules` (or through this package's "flyteAgent" field) and by
// task.ts: registers the warehouse agent in the process-wide registry.
import { AgentRegistry } from "flyte-agent";
import { WarehouseAgent } from "./warehouse-agent.js";

/** The agent this module registers. */
export const warehouseAgent = new WarehouseAgent();
AgentRegistry.register(warehouseAgent);
