import type { Answer, TlsOptions } from "../client/agent-client.js";
import { ConnectorClient } from "../client/connector-client.js";
import { ErrorCode, FlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";
import type {
  CreateTaskRequest,
  CreateTaskResponse,
  DeleteTaskRequest,
  GetTaskRequest,
  GetTaskResponse,
  ListAgentsResponse,
} from "@flyte-agent/runtime/internal/gen/flyteidl/admin/agent.js";
import type { Connection } from "@flyte-agent/runtime/internal/gen/v2/flyteidl2/core/security.js";
import type { AgentDeployment, RpcOperation } from "@flyte-agent/runtime/internal/propeller/config.js";
import { CONNECTOR_KEEPALIVE } from "@flyte-agent/runtime/internal/propeller/defaults.js";
import {
  fromConnectorResource,
  toConnectorInputs,
  toConnectorMetadata,
  toConnectorTemplate,
} from "@flyte-agent/runtime/internal/propeller/connector-wire.js";
import { type AgentConnectionOptions, observedCall } from "./connection.js";

/**
 * Flyte 2's connector services of one deployment (`flyteidl2.connector`), with the same calls as
 * {@link AgentConnection} so that the executor's loop is one for both protocols: requests arrive in
 * Flyte 1's shape and are sent as Flyte 2's executor builds them (`connector-wire.ts`), with the
 * attempt's `connection`; answers come back in the shape the shared status rules read. Deadlines
 * follow the deployment (10 s by default, `ListConnectors` for discovery).
 */
export class ConnectorConnection {
  constructor(
    readonly deployment: AgentDeployment,
    private readonly client: ConnectorClient,
    private readonly options: AgentConnectionOptions = {},
  ) {}

  /**
   * Opens a channel for `deployment` (TLS unless it is `insecure`), pinging while calls are active
   * as Flyte 2's executor does (main `connector/client.go:121-127`).
   */
  static dial(deployment: AgentDeployment, tls?: TlsOptions): ConnectorClient {
    return new ConnectorClient(deployment.endpoint, {
      tls: deployment.insecure ? false : (tls ?? true),
      keepalive: CONNECTOR_KEEPALIVE,
      ...(deployment.defaultServiceConfig ? { serviceConfig: deployment.defaultServiceConfig } : {}),
    });
  }

  private call<T>(op: RpcOperation, run: (deadlineMs: number) => Promise<T>): Promise<T> {
    return observedCall(this.deployment, this.options, op, run);
  }

  createTask(req: CreateTaskRequest, connection?: Connection): Promise<Answer<CreateTaskResponse>> {
    return this.call("CreateTask", (deadlineMs) =>
      this.client.createTask(
        {
          inputs: req.inputs ? toConnectorInputs(req.inputs) : undefined,
          template: req.template ? toConnectorTemplate(req.template) : undefined,
          outputPrefix: req.outputPrefix,
          taskExecutionMetadata: req.taskExecutionMetadata
            ? toConnectorMetadata(req.taskExecutionMetadata)
            : undefined,
          connection,
        },
        { deadlineMs },
      ),
    );
  }

  async getTask(req: GetTaskRequest, connection?: Connection): Promise<Answer<GetTaskResponse>> {
    const answer = await this.call("GetTask", (deadlineMs) =>
      this.client.getTask(
        {
          resourceMeta: req.resourceMeta,
          taskCategory: req.taskCategory,
          outputPrefix: req.outputPrefix,
          connection,
        },
        { deadlineMs },
      ),
    );
    const resource = answer.value.resource;
    return { ...answer, value: { resource: resource ? fromConnectorResource(resource) : undefined } };
  }

  async deleteTask(req: DeleteTaskRequest, connection?: Connection): Promise<void> {
    await this.call("DeleteTask", (deadlineMs) =>
      this.client.deleteTask(
        { resourceMeta: req.resourceMeta, taskCategory: req.taskCategory, connection },
        { deadlineMs },
      ),
    );
  }

  /** ListConnectors, as the agents a registry is built from (all async). */
  async listAgents(): Promise<Answer<ListAgentsResponse>> {
    const answer = await this.call("ListAgents", (deadlineMs) => this.client.listConnectors({ deadlineMs }));
    return {
      ...answer,
      value: {
        agents: answer.value.connectors.map((c) => ({
          name: c.name,
          isSync: false,
          supportedTaskTypes: [],
          supportedTaskCategories: c.supportedTaskCategories,
        })),
      },
    };
  }

  /** Flyte 2 has no sync service. */
  executeTaskSync(): never {
    throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, "Flyte 2 has no sync service");
  }
}
