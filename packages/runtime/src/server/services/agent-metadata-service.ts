import type {
  Agent as ProtoAgent,
  GetAgentRequest,
  GetAgentResponse,
  ListAgentsRequest,
  ListAgentsResponse,
} from "../../gen/flyteidl/admin/agent.js";
import type { AgentMetadataServiceServer } from "../../gen/flyteidl/service/agent.js";
import { ErrorCode, FlyteAgentError } from "../../core/errors.js";
import type { AgentInfo, AgentRegistry } from "../../core/registry.js";
import type { CallPipeline } from "../call-pipeline.js";

/** How ListAgents and GetAgent describe an agent. */
export function toProtoAgent(agent: AgentInfo): ProtoAgent {
  return {
    name: agent.name,
    isSync: agent.isSync,
    supportedTaskTypes: agent.categories.map((c) => c.name),
    supportedTaskCategories: agent.categories.map((c) => ({ name: c.name, version: c.version })),
  };
}

/** `flyteidl.service.AgentMetadataService` (ListAgents, GetAgent). */
export function createAgentMetadataService(
  pipeline: CallPipeline,
  registry: AgentRegistry,
): AgentMetadataServiceServer {
  const listAgents = pipeline.unary<ListAgentsRequest, ListAgentsResponse>(
    () => ({ op: "list", taskType: "" }),
    async () => ({ agents: registry.listAgents().map(toProtoAgent) }),
  );

  const getAgent = pipeline.unary<GetAgentRequest, GetAgentResponse>(
    () => ({ op: "describe", taskType: "" }),
    async (req) => {
      const agents = registry.listAgents();
      const found = agents.find((a) => a.name === req.name);
      if (!found) {
        throw new FlyteAgentError(
          ErrorCode.AGENT_NOT_FOUND,
          `Cannot find connector named ${req.name}. Available: [${agents.map((a) => a.name).join(", ")}]`,
        );
      }
      return { agent: toProtoAgent(found) };
    },
  );

  return { listAgents, getAgent };
}
