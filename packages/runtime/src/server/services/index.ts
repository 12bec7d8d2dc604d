import type { ServiceDefinition } from "@grpc/grpc-js";
import { CreateTaskRequest, ExecuteTaskSyncRequest } from "../../gen/flyteidl/admin/agent.js";
import {
  AgentMetadataServiceService,
  AsyncAgentServiceService,
  SyncAgentServiceService,
} from "../../gen/flyteidl/service/agent.js";
import type { Logger } from "../../core/context.js";
import type { AgentRegistry } from "../../core/registry.js";
import { type CallHooks, createCallPipeline } from "../call-pipeline.js";
import { createAgentMetadataService } from "./agent-metadata-service.js";
import { createAsyncAgentService } from "./async-agent-service.js";
import { createSyncAgentService } from "./sync-agent-service.js";
import { deferredService, type ServiceBinding } from "./deferred-service.js";
import { passingEncoded } from "./encoded-response.js";
import { ASYNC_CONNECTOR_SHAPES, CONNECTOR_METADATA_SHAPES } from "./flyte2-shapes.js";
import { recordingFieldSize } from "./wire-sizes.js";
import type { RequestRecorder } from "../recorder.js";

export { toProtoAgent } from "./agent-metadata-service.js";
export type { ServiceBinding } from "./deferred-service.js";

/** What the service handlers need from the server. */
export interface ServiceOptions {
  readonly registry: AgentRegistry;
  readonly logger: Logger;
  readonly hooks?: CallHooks;
  /** Writes the CreateTask and ExecuteTaskSync requests served, for `run --replay`. */
  readonly recorder?: RequestRecorder;
}

// The request decoders of the calls that carry task inputs also record the inputs' wire size, for
// the input-size metric (CreateTaskRequest.inputs is field 1, ExecuteTaskSyncRequest.inputs field 2).
// GetTask and ExecuteTaskSync answers arrive encoded (see encodeResponse).
const asyncAgentDefinition = {
  ...AsyncAgentServiceService,
  getTask: {
    ...AsyncAgentServiceService.getTask,
    responseSerialize: passingEncoded(AsyncAgentServiceService.getTask.responseSerialize),
  },
  createTask: {
    ...AsyncAgentServiceService.createTask,
    requestDeserialize: recordingFieldSize(
      (b) => CreateTaskRequest.decode(b),
      1,
      (r) => r.inputs,
    ),
  },
};
const syncAgentDefinition = {
  ...SyncAgentServiceService,
  executeTaskSync: {
    ...SyncAgentServiceService.executeTaskSync,
    requestDeserialize: recordingFieldSize(
      (b) => ExecuteTaskSyncRequest.decode(b),
      2,
      (r) => r.inputs,
    ),
    responseSerialize: passingEncoded(SyncAgentServiceService.executeTaskSync.responseSerialize),
  },
};

/**
 * Builds the handlers of Flyte 1's three agent services and Flyte 2's two connector services over a
 * registry, on one call pipeline: the in-flight count, the drain and the hooks cover every service
 * that pipeline serves.
 */
export function createServiceHandlers(options: ServiceOptions) {
  const pipeline = createCallPipeline(options);
  const asyncAgentService = createAsyncAgentService(pipeline, options.registry, options.recorder);
  const syncAgentService = createSyncAgentService(pipeline, options.registry, options.recorder);
  const metadataService = createAgentMetadataService(pipeline, options.registry);
  // Flyte 2's services load at their first call (see deferredService); both from one import.
  let flyte2: ReturnType<typeof loadFlyte2> | undefined;
  const loadFlyte2 = () =>
    import("./flyte2-services.js").then((m) =>
      m.createFlyte2Bindings(pipeline, options.registry, options.recorder),
    );
  const flyte2Bindings = () => (flyte2 ??= loadFlyte2());
  return {
    asyncAgentService,
    syncAgentService,
    metadataService,
    /** Every service with its handlers: what the server adds. */
    services: [
      {
        definition: keepingWireBytes(asyncAgentDefinition, "createTask", options.recorder),
        implementation: asyncAgentService,
      },
      {
        definition: keepingWireBytes(syncAgentDefinition, "executeTaskSync", options.recorder),
        implementation: syncAgentService,
      },
      { definition: AgentMetadataServiceService, implementation: metadataService },
      deferredService(ASYNC_CONNECTOR_SHAPES, () => flyte2Bindings().then((b) => b.asyncConnector)),
      deferredService(CONNECTOR_METADATA_SHAPES, () => flyte2Bindings().then((b) => b.connectorMetadata)),
    ] as readonly ServiceBinding[],
    /** Agent calls currently running (health checks and reflection are not counted). */
    inFlight: pipeline.inFlight,
    /** Resolves when no agent call is running. */
    idle: pipeline.idle,
    /** Answers every call still running with UNAVAILABLE (and fires its agent's signal). */
    abortAll: pipeline.abortAll,
  };
}

/** `definition` with `method`'s request decoder also handing the bytes it decodes to the recorder. */
function keepingWireBytes<D extends ServiceDefinition, K extends keyof D & string>(
  definition: D,
  method: K,
  recorder: RequestRecorder | undefined,
): D {
  if (!recorder) return definition;
  const m = definition[method]!;
  return {
    ...definition,
    [method]: { ...m, requestDeserialize: recorder.keepingWireBytes(m.requestDeserialize) },
  };
}
