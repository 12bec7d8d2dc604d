import type { Logger } from "../../core/context.js";
import type { AgentRegistry } from "../../core/registry.js";
import { type CallHooks, createCallPipeline } from "../call-pipeline.js";
import { createAgentMetadataService } from "./agent-metadata-service.js";
import { createAsyncAgentService } from "./async-agent-service.js";
import { createSyncAgentService } from "./sync-agent-service.js";

export { toProtoAgent } from "./agent-metadata-service.js";

/** What the service handlers need from the server. */
export interface ServiceOptions {
  readonly registry: AgentRegistry;
  readonly logger: Logger;
  readonly hooks?: CallHooks;
}

/**
 * Builds the handlers of Flyte's three agent services over a registry, on one call pipeline: the
 * in-flight count, the drain and the hooks cover every service that pipeline serves.
 */
export function createServiceHandlers(options: ServiceOptions) {
  const pipeline = createCallPipeline(options);
  return {
    asyncAgentService: createAsyncAgentService(pipeline, options.registry),
    syncAgentService: createSyncAgentService(pipeline, options.registry),
    metadataService: createAgentMetadataService(pipeline, options.registry),
    /** Agent calls currently running (health checks and reflection are not counted). */
    inFlight: pipeline.inFlight,
    /** Resolves when no agent call is running. */
    idle: pipeline.idle,
    /** Answers every call still running with UNAVAILABLE (and fires its agent's signal). */
    abortAll: pipeline.abortAll,
  };
}
