import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSensorEngine } from "@flyte-agent/runtime";
import {
  createAgentContext,
  createManualClock,
  runThroughExecutor,
  startAsyncTask,
  startTestServer,
} from "flyte-agent/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StarterSensor } from "../src/agent.js";
import { starterTask } from "../src/task.js";

describe("StarterSensor", () => {
  let dir = "";
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "sensor-test-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("pokes true only once the object exists", async () => {
    const sensor = new StarterSensor({});
    const path = join(dir, "ready.flag");
    expect(await sensor.poke({ path }, createAgentContext())).toBe(false);
    await writeFile(path, "");
    expect(await sensor.poke({ path }, createAgentContext())).toBe(true);
  });

  it("keeps the task running until the object appears, then succeeds", async () => {
    const path = join(dir, "ready.flag");
    const run = await startAsyncTask(createSensorEngine(), starterTask, { path });
    expect((await run.poll()).phaseName).toBe("RUNNING");
    await writeFile(path, "");
    expect((await run.poll()).phaseName).toBe("SUCCEEDED");
  });

  it("succeeds through the executor and the agent server when the object is there", async () => {
    await using server = await startTestServer({ agents: [createSensorEngine()] });
    const result = await runThroughExecutor(starterTask, { path: dir }, { server });
    expect(result.phase).toBe("SUCCEEDED");
  });

  it("fails once the task's timeout passes without the object", async () => {
    // The engine and the executor share a manual clock, so the hour passes without waiting.
    const clock = createManualClock();
    const result = await runThroughExecutor(
      starterTask,
      { path: join(dir, "never") },
      {
        agents: [createSensorEngine({ now: clock.now })],
        clock,
        timeoutMs: 2 * 60 * 60 * 1000, // leave the hour to the sensor engine, not the executor
        pollIntervalMs: 60_000,
        maxPollIntervalMs: 600_000,
      },
    );
    expect(result.phase).toBe("FAILED");
    expect(result.message).toMatch(/timed out/);
  });
});
