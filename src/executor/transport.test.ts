import { getEventListeners } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SyncAgentBase } from "../core/agent.js";
import { TaskExecutionPhase } from "../core/phase.js";
import { AgentRegistry } from "../core/registry.js";
import type { Resource } from "../core/resource.js";
import { AgentServer } from "../server/server.js";
import { defineTask } from "../task/define-task.js";
import { AgentConnection } from "./transport.js";

class OkAgent extends SyncAgentBase {
  constructor() {
    super({ taskTypeName: "ok_sync" });
  }
  async do(): Promise<Resource> {
    return { phase: TaskExecutionPhase.SUCCEEDED };
  }
}

const task = defineTask({ name: "ok", taskType: "ok_sync", inputs: {}, outputs: {} });

describe("AgentConnection.executeTaskSync", () => {
  let server: AgentServer;
  let connection: AgentConnection;
  beforeAll(async () => {
    const registry = new AgentRegistry();
    registry.register(new OkAgent());
    server = await AgentServer.start({ registry, host: "127.0.0.1", port: 0 });
    connection = new AgentConnection({
      id: "test",
      endpoint: server.address,
      insecure: true,
      defaultServiceConfig: undefined,
      timeouts: {},
      defaultTimeoutMs: 5_000,
    });
  });
  afterAll(async () => {
    connection.close();
    await server.shutdown(1_000);
  });

  it("leaves no abort listener on a signal shared by many calls once they have ended", async () => {
    const shared = new AbortController().signal;
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        connection.executeTaskSync(
          {
            header: {
              template: task.template(),
              outputPrefix: "",
              taskExecutionMetadata: undefined,
              maxDatasetSizeBytes: 0n,
            },
          },
          { inputs: { literals: {} } },
          shared,
        ),
      ),
    );
    expect(answers.map((a) => a[0]?.header?.resource?.phase)).toEqual(
      Array(5).fill(TaskExecutionPhase.SUCCEEDED),
    );
    expect(getEventListeners(shared, "abort")).toHaveLength(0);
  });
});
