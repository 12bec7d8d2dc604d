import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runThroughExecutor, startAsyncTask, startTestServer } from "flyte-agent/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StarterAgent } from "../src/agent.js";
import { starterTask } from "../src/task.js";

describe("StarterAgent", () => {
  let dir = "";
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "sensor-test-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps the task running until the object appears, then succeeds", async () => {
    const path = join(dir, "ready.flag");
    const run = await startAsyncTask(new StarterAgent(), starterTask, { path });

    const waiting = await run.poll();
    expect(waiting).toMatchObject({ phaseName: "RUNNING", done: false });
    expect(waiting.message).toContain("ready.flag");

    await writeFile(path, "");
    const done = await run.poll();
    expect(done).toMatchObject({ phaseName: "SUCCEEDED", done: true });
  });

  it("succeeds on the first poke when the object is already there", async () => {
    const run = await startAsyncTask(new StarterAgent(), starterTask, { path: dir });
    expect((await run.poll()).succeeded).toBe(true);
  });

  it("asks the store it was given", async () => {
    const asked: string[] = [];
    const store = { exists: async (p: string) => (asked.push(p), true) };
    const run = await startAsyncTask(new StarterAgent({ store }), starterTask, { path: "s3://bucket/key" });
    await run.poll();
    expect(asked).toEqual(["s3://bucket/key"]);
  });

  it("succeeds through the executor and the agent server on the first poke that finds the object", async () => {
    let pokes = 0;
    const store = { exists: async () => ++pokes === 3 };
    await using server = await startTestServer({ agents: [new StarterAgent({ store })] });
    // The executor's default test clock makes its waits between polls instant.
    const result = await runThroughExecutor(starterTask, { path: "s3://bucket/ready" }, { server });
    expect(result.phase).toBe("SUCCEEDED");
    expect(pokes).toBe(3);
  });
});
