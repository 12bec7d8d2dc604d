import { status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExecuteTaskSyncRequest } from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";
import {
  AgentRegistry,
  AsyncAgentBase,
  SyncAgentBase,
  TaskExecutionPhase,
  type Resource,
} from "../../packages/runtime/src/index.js";
import { AgentServer } from "../../packages/runtime/src/server/index.js";
import { clients, executeSync, failure, unary } from "./helpers.js";

/** Answers whatever outputs the test put in `next`. */
class OutputsAgent extends SyncAgentBase {
  next: Record<string, unknown> = {};
  constructor() {
    super({ taskTypeName: "outputs" });
  }
  async do(): Promise<Resource> {
    return { phase: TaskExecutionPhase.SUCCEEDED, outputs: this.next };
  }
}

/** A job whose result is a literal map the agent built itself, with a duration past int64 seconds. */
class LiteralsAgent extends AsyncAgentBase {
  constructor() {
    super({ taskTypeName: "literals" });
  }
  async create(): Promise<unknown> {
    return {};
  }
  async get(): Promise<Resource> {
    return {
      phase: TaskExecutionPhase.SUCCEEDED,
      outputs: {
        literals: { late: { scalar: { primitive: { duration: { seconds: 2n ** 70n, nanos: 0 } } } } },
      },
    };
  }
  async delete(): Promise<void> {}
}

const DURATION = 6;

describe("outputs that cannot be encoded", () => {
  const agent = new OutputsAgent();
  let server: AgentServer;
  let c: ReturnType<typeof clients>;

  beforeAll(async () => {
    const registry = new AgentRegistry();
    registry.register(agent);
    registry.register(new LiteralsAgent());
    server = await AgentServer.start({ registry, host: "127.0.0.1", port: 0 });
    c = clients(server.address);
  });
  afterAll(async () => {
    c.close();
    await server.shutdown(1000);
  });

  async function callWith(outputs: Record<string, unknown>, outputType?: number): Promise<ServiceError> {
    agent.next = outputs;
    const variables = outputType === undefined ? {} : { out: { type: { simple: outputType } } };
    const header = ExecuteTaskSyncRequest.fromPartial({
      header: { template: { type: "outputs", interface: { outputs: { variables } } } },
    });
    try {
      await executeSync(c.sync, [header, ExecuteTaskSyncRequest.fromPartial({ inputs: {} })]);
    } catch (err) {
      return err as ServiceError;
    }
    throw new Error("expected ExecuteTaskSync to fail");
  }

  it("answers INVALID_ARGUMENT naming the output when a duration overflows int64 seconds", async () => {
    // Used to go out as grpc-js's bare INTERNAL "Error serializing response", with nothing logged.
    const err = await callWith({ out: 9.3e21 }, DURATION);
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/^output "out": does not fit its protobuf type/);
  });

  it("answers INVALID_ARGUMENT naming the output for a NaN or infinite duration", async () => {
    // Used to be INTERNAL "failed to do ... The number NaN cannot be converted to a BigInt".
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const err = await callWith({ out: value }, DURATION);
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toMatch(/^output "out": cannot be converted to a literal/);
    }
  });

  it("answers INVALID_ARGUMENT naming the field of an untyped object holding a bigint beyond 64 bits", async () => {
    // Inferred as flytekit's untyped dict (msgpack), which holds integers up to the uint64 range.
    const err = await callWith({ out: { n: 2n ** 64n } });
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/^output "out\.n": 18446744073709551616n does not fit a msgpack integer/);
  });

  it("answers a GetTask whose own literal map does not encode with INVALID_ARGUMENT naming the output", async () => {
    const err = await failure(
      unary(c.async.getTask.bind(c.async), {
        taskType: "literals",
        taskCategory: { name: "literals", version: 0 },
        resourceMeta: Buffer.from("{}"),
        outputPrefix: "",
      }),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/^output "late": does not fit its protobuf type/);
  });

  it("still answers outputs that fit", async () => {
    agent.next = { out: 1500 };
    const header = ExecuteTaskSyncRequest.fromPartial({
      header: {
        template: {
          type: "outputs",
          interface: { outputs: { variables: { out: { type: { simple: DURATION } } } } },
        },
      },
    });
    const [answer] = await executeSync(c.sync, [header, ExecuteTaskSyncRequest.fromPartial({ inputs: {} })]);
    expect(answer?.header?.resource?.outputs?.literals.out?.scalar?.primitive?.duration).toEqual({
      seconds: 1n,
      nanos: 500_000_000,
    });
  });
});
