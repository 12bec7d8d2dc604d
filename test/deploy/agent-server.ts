import { HealthImplementation } from "grpc-health-check";
import { z } from "zod";
import {
  AgentRegistry,
  AsyncAgentBase,
  SyncAgentBase,
  TaskExecutionPhase,
  type Resource,
} from "../../packages/runtime/src/index.js";
import { AgentServer } from "../../packages/runtime/src/server/index.js";

const Meta = z.object({ id: z.string() });

class CustomAgent extends AsyncAgentBase<typeof Meta> {
  constructor(taskTypeName: string) {
    super({ taskTypeName, metadataSchema: Meta });
  }
  async create() {
    return { id: "1" };
  }
  async get(): Promise<Resource> {
    return { phase: TaskExecutionPhase.SUCCEEDED };
  }
  async delete() {}
}

class EchoAgent extends SyncAgentBase {
  constructor() {
    super({ taskTypeName: "echo" });
  }
  async do(): Promise<Resource> {
    return { phase: TaskExecutionPhase.SUCCEEDED };
  }
}

/** A real agent server on a loopback port serving `custom_task` (async) and `echo` (sync), filtered by `allow`. */
export async function startAgentServer(
  options: { allow?: string[]; health?: boolean } = {},
): Promise<AgentServer> {
  const all = new AgentRegistry();
  all.register(new CustomAgent("custom_task"));
  all.register(new EchoAgent());
  const registry = options.allow ? all.filter(options.allow) : all;
  const server = await AgentServer.start({ registry, host: "127.0.0.1", port: 0 });
  if (options.health !== false) {
    try {
      new HealthImplementation({ "": "SERVING" }).addToServer(server.server);
    } catch {
      // The server already serves grpc.health.v1 itself.
    }
  }
  return server;
}
