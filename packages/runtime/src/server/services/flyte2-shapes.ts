import type { MethodShape } from "./deferred-service.js";

/**
 * The methods of Flyte 2's connector services as grpc-js routes them (flyteidl2/connector/service.proto
 * on flyteorg/flyte main), without their messages: the server registers these at start and loads the
 * generated services at the first call. A test holds them equal to the generated definitions.
 */
export const ASYNC_CONNECTOR_SHAPES: Readonly<Record<string, MethodShape>> = {
  createTask: shape("AsyncConnectorService/CreateTask"),
  getTask: shape("AsyncConnectorService/GetTask"),
  deleteTask: shape("AsyncConnectorService/DeleteTask"),
  getTaskMetrics: shape("AsyncConnectorService/GetTaskMetrics"),
  getTaskLogs: shape("AsyncConnectorService/GetTaskLogs", true),
};

/** See {@link ASYNC_CONNECTOR_SHAPES}. */
export const CONNECTOR_METADATA_SHAPES: Readonly<Record<string, MethodShape>> = {
  getConnector: shape("ConnectorMetadataService/GetConnector"),
  listConnectors: shape("ConnectorMetadataService/ListConnectors"),
};

function shape(method: string, responseStream = false): MethodShape {
  return { path: `/flyteidl2.connector.${method}`, requestStream: false, responseStream };
}
