import { CreateTaskRequest } from "../../gen/v2/flyteidl2/connector/connector.js";
import {
  AsyncConnectorServiceService,
  ConnectorMetadataServiceService,
} from "../../gen/v2/flyteidl2/connector/service.js";
import type { AgentRegistry } from "../../core/registry.js";
import type { CallPipeline } from "../call-pipeline.js";
import type { RequestRecorder } from "../recorder.js";
import { createAsyncConnectorService } from "./async-connector-service.js";
import { createConnectorMetadataService } from "./connector-metadata-service.js";
import type { ServiceBinding } from "./deferred-service.js";
import { passingEncoded } from "./encoded-response.js";
import { recordingFieldSize } from "./wire-sizes.js";

// Flyte 2's CreateTaskRequest.inputs is field 1, as Flyte 1's (flyteidl2/connector/connector.proto):
// its decoder records the inputs' wire size for the input-size metric. GetTask answers arrive
// encoded (see encodeResponse).
const asyncConnectorDefinition = {
  ...AsyncConnectorServiceService,
  getTask: {
    ...AsyncConnectorServiceService.getTask,
    responseSerialize: passingEncoded(AsyncConnectorServiceService.getTask.responseSerialize),
  },
  createTask: {
    ...AsyncConnectorServiceService.createTask,
    requestDeserialize: recordingFieldSize(
      (b) => CreateTaskRequest.decode(b),
      1,
      (r) => r.inputs,
    ),
  },
};

/**
 * Flyte 2's two connector services over a call pipeline: loaded at the first Flyte 2 call (see
 * `deferredService`), so a server that only Propeller calls never parses Flyte 2's messages.
 */
export function createFlyte2Bindings(
  pipeline: CallPipeline,
  registry: AgentRegistry,
  recorder?: RequestRecorder,
): { asyncConnector: ServiceBinding; connectorMetadata: ServiceBinding } {
  return {
    asyncConnector: {
      definition: asyncConnectorDefinition,
      implementation: createAsyncConnectorService(pipeline, registry, recorder),
    },
    connectorMetadata: {
      definition: ConnectorMetadataServiceService,
      implementation: createConnectorMetadataService(pipeline, registry),
    },
  };
}
