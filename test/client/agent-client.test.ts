import { getEventListeners } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentClient, RpcError } from "../../src/client/index.js";
import { TaskExecutionPhase } from "../../packages/runtime/src/core/phase.js";
import {
  GetTaskResponse,
  type Resource,
  State,
} from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";
import { type RawAgentServer, startRawAgentServer } from "../propeller/raw-agent-server.js";

const resource = (message: string): Resource => ({
  state: State.RETRYABLE_FAILURE,
  outputs: undefined,
  message,
  logLinks: [],
  phase: TaskExecutionPhase.RUNNING,
  customInfo: undefined,
  agentError: undefined,
});
const agents = [
  { name: "a", isSync: false, supportedTaskTypes: [], supportedTaskCategories: [{ name: "t", version: 0 }] },
  { name: "s", isSync: true, supportedTaskTypes: [], supportedTaskCategories: [{ name: "st", version: 0 }] },
];

describe("AgentClient", () => {
  let server: RawAgentServer;
  let client: AgentClient;
  beforeAll(async () => {
    server = await startRawAgentServer({
      agents,
      get: () => resource("x".repeat(1000)),
      sync: () => ({
        messages: [{ header: { resource: resource("done") }, outputs: undefined }],
        then: "open",
      }),
    });
    client = new AgentClient(server.address);
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it("reports each answer's size as it came on the wire", async () => {
    const req = {
      taskType: "t",
      taskCategory: { name: "t", version: 0 },
      resourceMeta: Buffer.from("m"),
      outputPrefix: "",
    };
    const answer = await client.getTask(req);
    expect(answer.bytes).toBe(GetTaskResponse.encode(answer.value).finish().length);
    expect(answer.bytes).toBeGreaterThan(1000);
  });

  it("reads one ExecuteTaskSync message and cancels, leaving no listener on a shared signal", async () => {
    const shared = new AbortController().signal;
    const header = {
      header: {
        template: undefined,
        outputPrefix: "",
        taskExecutionMetadata: undefined,
        maxDatasetSizeBytes: 0n,
      },
    };
    // The server keeps every stream open after its header: each call still returns at once.
    const receipts = await Promise.all(
      Array.from({ length: 3 }, () =>
        client.executeTaskSync(header, { inputs: { literals: {} } }, { signal: shared, deadlineMs: 5_000 }),
      ),
    );
    expect(receipts.map((r) => r.first?.header?.resource?.message)).toEqual(["done", "done", "done"]);
    expect(receipts.every((r) => r.bytes > 0)).toBe(true);
    expect(getEventListeners(shared, "abort")).toHaveLength(0);
  });

  it("fails a call past its deadline with DEADLINE_EXCEEDED", async () => {
    // The stream stays open without a message: only the call's own deadline ends it.
    const silent = await startRawAgentServer({ agents, sync: () => ({ messages: [], then: "open" }) });
    const c = new AgentClient(silent.address);
    try {
      const header = {
        header: {
          template: undefined,
          outputPrefix: "",
          taskExecutionMetadata: undefined,
          maxDatasetSizeBytes: 0n,
        },
      };
      const err = await c
        .executeTaskSync(header, { inputs: { literals: {} } }, { deadlineMs: 100 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RpcError);
      expect((err as RpcError).codeName).toBe("DEADLINE_EXCEEDED");
    } finally {
      c.close();
      await silent.close();
    }
  });
});
