import type {
  Connector,
  GetConnectorRequest,
  GetConnectorResponse,
  ListConnectorsRequest,
  ListConnectorsResponse,
} from "../../gen/v2/flyteidl2/connector/connector.js";
import type { ConnectorMetadataServiceServer } from "../../gen/v2/flyteidl2/connector/service.js";
import { ErrorCode, FlyteAgentError } from "../../core/errors.js";
import type { AgentInfo, AgentRegistry } from "../../core/registry.js";
import type { CallPipeline } from "../call-pipeline.js";

/**
 * How ListConnectors and GetConnector describe an agent: Flyte 2's `Connector` has no `is_sync`
 * (a sync agent is served through the async service too) and no deprecated task type list.
 */
export function toProtoConnector(agent: AgentInfo): Connector {
  return {
    name: agent.name,
    supportedTaskCategories: agent.categories.map((c) => ({ name: c.name, version: c.version })),
  };
}

/** `flyteidl2.connector.ConnectorMetadataService` (ListConnectors, GetConnector), Flyte 2. */
export function createConnectorMetadataService(
  pipeline: CallPipeline,
  registry: AgentRegistry,
): ConnectorMetadataServiceServer {
  const listConnectors = pipeline.unary<ListConnectorsRequest, ListConnectorsResponse>(
    () => ({ op: "list", taskType: "", protocol: "flyte2" }),
    async () => ({ connectors: registry.listAgents().map(toProtoConnector) }),
  );

  const getConnector = pipeline.unary<GetConnectorRequest, GetConnectorResponse>(
    () => ({ op: "describe", taskType: "", protocol: "flyte2" }),
    async (req) => {
      const agents = registry.listAgents();
      const found = agents.find((a) => a.name === req.name);
      if (!found) {
        // flyte-sdk's wording (flyte/connectors/_connector.py, _get_connector_metadata), as NOT_FOUND.
        throw new FlyteAgentError(
          ErrorCode.AGENT_NOT_FOUND,
          `Cannot find connector for name: ${req.name}. Available: [${agents.map((a) => a.name).join(", ")}]`,
        );
      }
      return { connector: toProtoConnector(found) };
    },
  );

  return { getConnector, listConnectors };
}
