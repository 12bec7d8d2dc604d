import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { AgentRegistry } from "@flyte-agent/runtime/internal/core/registry.js";
import { AsyncAgentBase } from "@flyte-agent/runtime/internal/core/agent.js";
import { TaskExecutionPhase } from "@flyte-agent/runtime/internal/core/phase.js";
import type { Resource } from "@flyte-agent/runtime/internal/core/resource.js";
import { AgentServer } from "@flyte-agent/runtime/internal/server/server.js";
import { defineTask } from "@flyte-agent/runtime/internal/task/define-task.js";
import { createManualClock } from "./clock.js";
import { executeTask } from "./execute-task.js";
import { ExecutorSession, endpointConfig } from "./executor-session.js";
import { CallSlots, type RpcRecord } from "./connection.js";

/** Answers SUCCEEDED on the first GetTask; counts how many creates run at the same time. */
class GateAgent extends AsyncAgentBase {
  inFlight = 0;
  maxInFlight = 0;
  creates = 0;
  getsInFlight = 0;
  maxGetsInFlight = 0;
  constructor() {
    super({ taskTypeName: "session_gate" });
  }
  async create({ inputs }: { inputs: Record<string, unknown> }) {
    this.creates += 1;
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    // Let other calls arrive while this one is in flight.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    this.inFlight -= 1;
    return { n: Number(inputs.n) };
  }
  async get(meta: Record<string, unknown>): Promise<Resource> {
    this.getsInFlight += 1;
    this.maxGetsInFlight = Math.max(this.maxGetsInFlight, this.getsInFlight);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    this.getsInFlight -= 1;
    return { phase: TaskExecutionPhase.SUCCEEDED, outputs: { n: Number(meta.n) * 10 } };
  }
  async delete() {}
}

const task = defineTask({
  name: "t.session_gate",
  taskType: "session_gate",
  inputs: { n: z.int() },
  outputs: { n: z.int() },
});

let server: AgentServer;
let agent: GateAgent;

beforeAll(async () => {
  const registry = new AgentRegistry();
  agent = new GateAgent();
  registry.register(agent);
  server = await AgentServer.start({ registry, host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await server.shutdown(1_000);
});

describe("ExecutorSession", () => {
  it("runs one ListAgents discovery for many runs, where runs without a session each run their own", async () => {
    const shared: RpcRecord[] = [];
    const session = await ExecutorSession.create({ endpoint: server.address, onRpc: (r) => shared.push(r) });
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, n) => executeTask({ task, inputs: { n }, session })),
      );
      expect(results.map((r) => r.outputs)).toEqual(Array.from({ length: 20 }, (_, n) => ({ n: n * 10 })));
    } finally {
      session.close();
    }
    const count = (records: RpcRecord[], op: string) => records.filter((r) => r.op === op).length;
    expect(count(shared, "ListAgents")).toBe(1);
    expect(count(shared, "CreateTask")).toBe(20);
    expect(count(shared, "GetTask")).toBe(20);
    expect(shared.every((r) => r.code === "OK" && r.durationMs >= 0)).toBe(true);

    const own: RpcRecord[] = [];
    await Promise.all(
      Array.from({ length: 5 }, (_, n) =>
        executeTask({ task, inputs: { n }, endpoint: server.address, onRpc: (r) => own.push(r) }),
      ),
    );
    expect(count(own, "ListAgents")).toBe(5);
  });

  it("shares one GetTask rate limiter between its runs, as one FlytePropeller process does", async () => {
    const clock = createManualClock(1_000_000);
    const config = { ...endpointConfig(server.address), readRateLimiter: { qps: 1, burst: 3 } };
    const session = await ExecutorSession.create({ config, clock });
    try {
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, n) =>
          executeTask({ task, inputs: { n }, session, clock, propellerTiming: true }),
        ),
      );
      expect(results.every((r) => r.succeeded)).toBe(true);
    } finally {
      session.close();
    }
    // Three tokens of burst, then the fourth and fifth GetTask wait for the 1 qps refill.
    expect(clock.slept.filter((ms) => ms === 1000).length).toBeGreaterThanOrEqual(2);

    // Each run without a session has a full bucket of its own: nobody waits.
    const own = createManualClock(1_000_000);
    await Promise.all(
      Array.from({ length: 5 }, (_, n) =>
        executeTask({ task, inputs: { n }, config, clock: own, propellerTiming: true }),
      ),
    );
    expect(own.slept).toEqual([]);
  });

  it("keeps at most maxConcurrentCalls calls in flight and still runs every task", async () => {
    agent.maxInFlight = 0;
    const session = await ExecutorSession.create({ endpoint: server.address, maxConcurrentCalls: 2 });
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, n) => executeTask({ task, inputs: { n }, session })),
      );
      expect(results.every((r) => r.succeeded)).toBe(true);
    } finally {
      session.close();
    }
    expect(agent.maxInFlight).toBeGreaterThanOrEqual(1);
    expect(agent.maxInFlight).toBeLessThanOrEqual(2);

    // The same runs without the limit do overlap, so the bound above is the session's doing.
    agent.maxInFlight = 0;
    const free = await ExecutorSession.create({ endpoint: server.address });
    try {
      await Promise.all(
        Array.from({ length: 12 }, (_, n) => executeTask({ task, inputs: { n }, session: free })),
      );
    } finally {
      free.close();
    }
    expect(agent.maxInFlight).toBeGreaterThan(2);
  });

  it("bounds GetTask in a pool of its own, so polls do not queue behind creates", async () => {
    agent.maxInFlight = 0;
    agent.maxGetsInFlight = 0;
    const session = await ExecutorSession.create({
      endpoint: server.address,
      maxConcurrentCalls: 3,
      maxConcurrentGets: 1,
    });
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, n) => executeTask({ task, inputs: { n }, session })),
      );
      expect(results.map((r) => r.outputs)).toEqual(Array.from({ length: 12 }, (_, n) => ({ n: n * 10 })));
    } finally {
      session.close();
    }
    expect(agent.maxGetsInFlight).toBe(1);
    expect(agent.maxInFlight).toBeGreaterThan(1);
    expect(agent.maxInFlight).toBeLessThanOrEqual(3);
  });

  it("refuses options that belong to the session, a closed session and a bad call limit", async () => {
    const session = await ExecutorSession.create({ endpoint: server.address });
    await expect(executeTask({ task, inputs: { n: 1 }, session, endpoint: server.address })).rejects.toThrow(
      "endpoint cannot be combined with session",
    );
    session.close();
    await expect(executeTask({ task, inputs: { n: 1 }, session })).rejects.toThrow("session is closed");
    await expect(ExecutorSession.create({ endpoint: server.address, maxConcurrentCalls: 0 })).rejects.toThrow(
      "maxConcurrentCalls must be a positive integer",
    );
    await expect(ExecutorSession.create({})).rejects.toThrow("needs an endpoint or a config");
  });
});

describe("CallSlots", () => {
  it("hands a released slot to the longest waiter, once per release", async () => {
    const slots = new CallSlots(1);
    const order: number[] = [];
    const first = await slots.acquire();
    const waiters = [1, 2, 3].map((i) =>
      slots.acquire().then((release) => {
        order.push(i);
        return release;
      }),
    );
    await Promise.resolve();
    expect(order).toEqual([]);
    first();
    first(); // a second release of the same slot frees nothing more
    const r1 = await waiters[0]!;
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([1]);
    r1();
    (await waiters[1]!)();
    (await waiters[2]!)();
    expect(order).toEqual([1, 2, 3]);
    // Every slot came back: a new caller gets one at once.
    const again = await slots.acquire();
    again();
  });
});
