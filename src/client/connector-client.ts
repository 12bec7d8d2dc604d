import type {
  CreateTaskRequest,
  CreateTaskResponse,
  DeleteTaskRequest,
  DeleteTaskResponse,
  GetConnectorResponse,
  GetTaskLogsRequest,
  GetTaskLogsResponse,
  GetTaskMetricsRequest,
  GetTaskMetricsResponse,
  GetTaskRequest,
  GetTaskResponse,
  ListConnectorsResponse,
} from "@flyte-agent/runtime/internal/gen/v2/flyteidl2/connector/connector.js";
import {
  AsyncConnectorServiceService,
  ConnectorMetadataServiceService,
} from "@flyte-agent/runtime/internal/gen/v2/flyteidl2/connector/service.js";
import { type AgentClientOptions, type Answer, type CallOptions, RpcChannel } from "./channel.js";

/**
 * The gRPC client of Flyte 2's connector services (`flyteidl2.connector.AsyncConnectorService`,
 * `ConnectorMetadataService` and grpc.health.v1), beside {@link AgentClient} for Flyte 1 and on the
 * same channel rules: TLS, deadlines, wire sizes taken from the received bytes, no retries inside
 * the channel unless the service config asks for them. Flyte 2 has no sync service.
 */
export class ConnectorClient {
  private readonly channel: RpcChannel;

  constructor(
    readonly endpoint: string,
    options: AgentClientOptions = {},
  ) {
    this.channel = new RpcChannel(endpoint, options);
  }

  createTask(req: CreateTaskRequest, opts: CallOptions = {}): Promise<Answer<CreateTaskResponse>> {
    return this.channel.unary(AsyncConnectorServiceService.createTask, req, opts);
  }

  getTask(req: GetTaskRequest, opts: CallOptions = {}): Promise<Answer<GetTaskResponse>> {
    return this.channel.unary(AsyncConnectorServiceService.getTask, req, opts);
  }

  deleteTask(req: DeleteTaskRequest, opts: CallOptions = {}): Promise<Answer<DeleteTaskResponse>> {
    return this.channel.unary(AsyncConnectorServiceService.deleteTask, req, opts);
  }

  getTaskMetrics(
    req: GetTaskMetricsRequest,
    opts: CallOptions = {},
  ): Promise<Answer<GetTaskMetricsResponse>> {
    return this.channel.unary(AsyncConnectorServiceService.getTaskMetrics, req, opts);
  }

  /**
   * GetTaskLogs, a server stream: each message as it arrives (a header with the next page token,
   * bodies with log lines). Leaving the loop early cancels the stream.
   * @throws RpcError when the stream ends with a non-OK status.
   */
  getTaskLogs(
    req: GetTaskLogsRequest,
    opts: CallOptions = {},
  ): AsyncGenerator<Answer<GetTaskLogsResponse>, void, undefined> {
    return this.channel.serverStream(AsyncConnectorServiceService.getTaskLogs, req, opts);
  }

  listConnectors(opts: CallOptions = {}): Promise<Answer<ListConnectorsResponse>> {
    return this.channel.unary(ConnectorMetadataServiceService.listConnectors, {}, opts);
  }

  getConnector(name: string, opts: CallOptions = {}): Promise<Answer<GetConnectorResponse>> {
    return this.channel.unary(ConnectorMetadataServiceService.getConnector, { name }, opts);
  }

  /** `grpc.health.v1.Health/Check` for the whole server. */
  health(opts: CallOptions = {}): Promise<Answer<{ status: string }>> {
    return this.channel.health(opts);
  }

  close(): void {
    this.channel.close();
  }
}
