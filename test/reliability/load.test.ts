import { totalmem } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LoadReport, type LoadServer, runLoad, startLoadServer } from "../../bench/load.mjs";

// The load benchmark at a size CI can afford: the same driver as `npm run bench`, the real server
// binary in its own process, 500 async tasks and 100 sync calls at once. No timing is asserted here;
// the figures are recorded by the benchmark.
describe("load (reduced size)", () => {
  let server: LoadServer;
  let report: LoadReport;

  beforeAll(async () => {
    server = await startLoadServer();
    report = await runLoad({
      address: server.address,
      serverPid: server.pid,
      asyncTasks: 500,
      syncCalls: 100,
      taskDurationMs: 300,
      resyncIntervalMs: 100,
      idleMs: 200,
      settleMs: 200,
    });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  });

  const round = () => report.rounds[0]!;

  it("runs 500 concurrent async tasks to SUCCEEDED with the outputs their inputs imply", () => {
    expect(round().failureSamples).toEqual([]);
    expect(round().failedTasks).toEqual({});
    expect(round().succeeded).toBe(500);
    expect(round().createTaskCalls).toBe(500);
  });

  it("polls every async task until it reports SUCCEEDED", () => {
    // How many polls a task needs depends on how long the load delays its first GetTask (one that
    // comes 300 ms after the create already sees SUCCEEDED): at least one each is what always holds.
    expect(round().getTaskCalls).toBeGreaterThanOrEqual(500);
    // Every GetTask's latency was measured: a call over a socket takes time, and the percentiles
    // come from one sorted list (no value asserted: figures belong to the benchmark).
    const r = round();
    expect(r.getTaskP50Ms).toBeGreaterThan(0);
    expect(r.getTaskP99Ms).toBeGreaterThanOrEqual(r.getTaskP50Ms);
    expect(r.getTaskMaxMs).toBeGreaterThanOrEqual(r.getTaskP99Ms);
  });

  it("shares one connection and one discovery round between the 500 runs", () => {
    expect(round().otherCalls).toEqual({ ListAgents: 1 });
  });

  it("answers every call without an RPC error", () => {
    expect(report.rounds).toHaveLength(1);
    expect(round().rpcErrors).toEqual({});
    expect(report.sync.rpcErrors).toEqual({});
  });

  it("runs 100 concurrent sync calls to SUCCEEDED with their outputs", () => {
    expect(report.sync.failureSamples).toEqual([]);
    expect(report.sync.failedCalls).toEqual({});
    expect(report.sync.succeeded).toBe(100);
  });

  it("reads the server's resident memory before, during and after the load", () => {
    const m = round().serverRssMb;
    const machineMb = totalmem() / 2 ** 20;
    // In MB, from /proc: a Node process holds more than 10 MB and less than the machine (a reading in
    // the wrong unit, or NaN from a missing field, fails here).
    for (const v of [report.serverRssMb.idle, m.peak, m.atEnd, m.settled, report.serverRssMb.afterSync]) {
      expect(v).toBeGreaterThan(10);
      expect(v).toBeLessThan(machineMb);
    }
    expect(m.peak).toBeGreaterThanOrEqual(m.atEnd);
    // Sampled during the load: 500 tasks in flight hold more than the idle server did.
    expect(m.peak).toBeGreaterThan(report.serverRssMb.idle);
  });
});
