import { describe, expect, it } from "vitest";
import { WorkerRestarts } from "./workers.js";

describe("WorkerRestarts", () => {
  it("doubles the delay for each crash in a row of one worker, up to the maximum", () => {
    const restarts = new WorkerRestarts({ initialMs: 100, maxMs: 1000, resetAfterMs: 10_000 });
    expect([1, 2, 3, 4, 5, 6].map(() => restarts.crashed(1, 50))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("counts each worker slot on its own", () => {
    const restarts = new WorkerRestarts({ initialMs: 100 });
    restarts.crashed(1, 0);
    restarts.crashed(1, 0);
    expect(restarts.crashed(2, 0)).toBe(100);
    expect(restarts.crashed(1, 0)).toBe(400);
  });

  it("starts counting again after a worker served longer than resetAfterMs", () => {
    const restarts = new WorkerRestarts({ initialMs: 100, resetAfterMs: 10_000 });
    restarts.crashed(1, 0);
    restarts.crashed(1, 0);
    expect(restarts.crashed(1, 10_000)).toBe(100);
    expect(restarts.crashed(1, 20)).toBe(200);
  });

  it("waits 250 ms after a first crash and at most 30 s by default", () => {
    const restarts = new WorkerRestarts();
    expect(restarts.crashed(1, 0)).toBe(250);
    for (let i = 0; i < 20; i++) restarts.crashed(1, 0);
    expect(restarts.crashed(1, 0)).toBe(30_000);
  });
});
