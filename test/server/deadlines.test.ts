// Calls whose deadline passes while the server is busy must still end with a gRPC status. A raw
// HTTP/2 client reads what the server itself sends: a grpc-js client would report DEADLINE_EXCEEDED
// on its own timer, whatever the server did.
import { setImmediate as nextLoopTurn } from "node:timers/promises";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  CreateTaskRequest,
  GetTaskLogsRequest,
} from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";
import {
  type AgentContext,
  AgentRegistry,
  AsyncAgentBase,
  type LogChunk,
  type Resource,
  TaskExecutionPhase,
} from "../../packages/runtime/src/index.js";
import { AgentServer } from "../../packages/runtime/src/server/index.js";
import { RawGrpcClient } from "../reliability/fuzz-wire.js";

const Meta = z.object({ job_id: z.string() });

/**
 * Blocks the event loop until the call's deadline is past, as a loaded machine would. This is the one
 * deliberate wall-clock wait in the fast suite: the case is grpc-js's own deadline timer (real time)
 * firing while the loop is stalled, which neither an injected clock nor fake timers can reproduce.
 * The stall lasts at most the call's 300 ms deadline.
 */
function busyUntilPast(deadline: Date | undefined): void {
  if (!deadline) throw new Error("the call has no deadline");
  while (Date.now() <= deadline.getTime() + 1) {
    // spin
  }
}

class SlowLogsAgent extends AsyncAgentBase<typeof Meta> {
  creates = 0;
  constructor() {
    super({ taskTypeName: "slow_logs", metadataSchema: Meta });
  }
  async create(): Promise<z.output<typeof Meta>> {
    this.creates++;
    return { job_id: "j" };
  }
  async get(): Promise<Resource> {
    return { phase: TaskExecutionPhase.RUNNING };
  }
  async delete() {}
  override async *getLogs(_meta: unknown, _q: unknown, ctx: AgentContext): AsyncIterable<LogChunk> {
    yield { lines: ["first"], token: "t1" };
    // The first chunk's two messages are on their way; one loop turn later the machine stalls past
    // the deadline, so grpc-js's deadline timer runs before those writes complete.
    await nextLoopTurn();
    busyUntilPast(ctx.deadline);
    yield { lines: ["second"], token: "t2" };
  }
}

function frame(bytes: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + bytes.length);
  out.writeUInt32BE(bytes.length, 1);
  Buffer.from(bytes).copy(out, 5);
  return out;
}

const logsRequest = frame(
  GetTaskLogsRequest.encode(
    GetTaskLogsRequest.fromPartial({
      taskCategory: { name: "slow_logs", version: 0 },
      resourceMeta: Buffer.from('{"job_id":"j"}'),
    }),
  ).finish(),
);
const createRequest = frame(
  CreateTaskRequest.encode(
    CreateTaskRequest.fromPartial({ template: { type: "slow_logs" }, outputPrefix: "s3://b/p" }),
  ).finish(),
);

describe("deadlines on a busy server", () => {
  const agent = new SlowLogsAgent();
  let server: AgentServer;
  let raw: RawGrpcClient;

  beforeAll(async () => {
    const registry = new AgentRegistry();
    registry.register(agent);
    server = await AgentServer.start({ registry, host: "127.0.0.1", port: 0 });
    raw = new RawGrpcClient(`http://127.0.0.1:${server.port}`, 1);
  });

  afterAll(() => {
    raw.close();
    server.forceShutdown();
  });

  it("ends a log stream whose deadline passes between two chunks with DEADLINE_EXCEEDED, not silence", async () => {
    const results = [];
    for (let i = 0; i < 2; i++) {
      results.push(
        await raw.send(
          "/flyteidl.service.AsyncAgentService/GetTaskLogs",
          logsRequest,
          { "grpc-timeout": "300m" },
          5_000,
        ),
      );
    }
    for (const r of results) {
      expect(r.failure).toBeUndefined();
      expect(r.grpcStatus).toBe(status.DEADLINE_EXCEEDED);
      // The first chunk (token header + lines) went out before the deadline; nothing after it.
      expect(r.messages).toBe(2);
    }
    expect(server.inFlight).toBe(0);
  });

  it("answers a call whose deadline passed before it started with DEADLINE_EXCEEDED without running the agent", async () => {
    const before = agent.creates;
    const created = await raw.send(
      "/flyteidl.service.AsyncAgentService/CreateTask",
      createRequest,
      { "grpc-timeout": "1n" },
      5_000,
    );
    expect(created.failure).toBeUndefined();
    expect(created.grpcStatus).toBe(status.DEADLINE_EXCEEDED);
    expect(agent.creates).toBe(before);
    const logs = await raw.send(
      "/flyteidl.service.AsyncAgentService/GetTaskLogs",
      logsRequest,
      { "grpc-timeout": "1n" },
      5_000,
    );
    expect(logs.failure).toBeUndefined();
    expect(logs.grpcStatus).toBe(status.DEADLINE_EXCEEDED);
    expect(logs.messages).toBe(0);
    expect(server.inFlight).toBe(0);
  });
});
