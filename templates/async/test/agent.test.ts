import { TaskExecutionPhase } from "@flyte-agent/runtime";
import {
  createManualClock,
  runAsyncTask,
  runThroughExecutor,
  startAsyncTask,
  startTestServer,
} from "flyte-agent/testing";
import { describe, expect, it } from "vitest";
import { StarterAgent } from "../src/agent.js";
import { StandInJobService } from "../src/job-service.js";
import { starterTask } from "../src/task.js";

function agentWithClock() {
  const clock = createManualClock();
  return { clock, agent: new StarterAgent({ client: new StandInJobService({ now: clock.now }) }) };
}

describe("StarterAgent", () => {
  it("reports RUNNING until the job is done, then its outputs", async () => {
    const { clock, agent } = agentWithClock();
    const run = await startAsyncTask(agent, starterTask, { message: "hello", repeat: 3 });

    const running = await run.poll();
    expect(running.phase).toBe(TaskExecutionPhase.RUNNING);
    expect(running.logLinks[0]?.uri).toMatch(/^https:\/\/jobs\.example\.com\//);

    clock.advance(1000); // the task's config says the job takes one second
    const done = await run.poll();
    expect(done.phaseName).toBe("SUCCEEDED");
    expect(done.outputs).toEqual({ result: "hello hello hello", length: 17 });
  });

  it("uses the task's default for an input left out", async () => {
    const { clock, agent } = agentWithClock();
    const result = await runAsyncTask(
      agent,
      starterTask,
      { message: "hi" },
      {
        beforePoll: () => clock.advance(500),
      },
    );
    expect(result.outputs).toEqual({ result: "hi hi", length: 5 });
  });

  it("reports a failed job as FAILED with the service's message", async () => {
    const { clock, agent } = agentWithClock();
    const result = await runAsyncTask(
      agent,
      starterTask,
      { message: "fail" },
      {
        beforePoll: () => clock.advance(1000),
      },
    );
    expect(result.phaseName).toBe("FAILED");
    expect(result.message).toMatch(/fail/);
  });

  it("stores only the job id in the resource metadata", async () => {
    const { agent } = agentWithClock();
    const run = await startAsyncTask(agent, starterTask, { message: "hello" });
    expect(Object.keys(run.meta)).toEqual(["job_id"]);
  });

  it("can be cancelled more than once", async () => {
    const { agent } = agentWithClock();
    const run = await startAsyncTask(agent, starterTask, { message: "hello" });
    await run.delete();
    await expect(run.delete()).resolves.toBeUndefined();
  });
});

// The same agent behind FlytePropeller's loop (the executor) and behind the real gRPC server. The
// executor's waits between polls move the manual clock, so the stand-in's job finishes without waiting.
describe("StarterAgent through the executor", () => {
  it("runs the task to its outputs", async () => {
    const { clock, agent } = agentWithClock();
    const result = await runThroughExecutor(starterTask, { message: "hey" }, { agents: [agent], clock });
    expect(result).toMatchObject({ phase: "SUCCEEDED", outputs: { result: "hey hey", length: 7 } });
  });

  it("runs the task against the agent server on a loopback port", async () => {
    const { clock, agent } = agentWithClock();
    await using server = await startTestServer({ agents: [agent] });
    const result = await runThroughExecutor(starterTask, { message: "fail" }, { server, clock });
    expect(result.phase).toBe("FAILED");
    expect(result.message).toMatch(/fail/);
  });
});
