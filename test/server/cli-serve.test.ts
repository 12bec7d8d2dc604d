import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import type {
  GetTaskResponse,
  ListAgentsResponse,
} from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";
import { TaskExecutionPhase } from "../../packages/runtime/src/index.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { bin, root, serveBin, startServeProcess } from "../support/serve-process.js";
import { clients, failure, unary } from "./helpers.js";

// These tests run the built CLI (`npm run build` first; `npm test` does it).
const fixture = "test/server/fixtures/agents.ts";
/** A server on a free loopback port serving the fixture agents, without metrics or discovery. */
const local = ["--port", "0", "--host", "127.0.0.1", "--no-prometheus", "-m", fixture, "--no-discover"];

describe("flyte-agent serve agent (the real binary)", () => {
  it("loads --modules, prints the banner, and drains a call in flight on SIGTERM before exiting 0", async () => {
    const cli = await startServeProcess([
      "agent",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--prometheus_port",
      "0",
      "-m",
      fixture,
      "--no-discover",
    ]);
    const c = clients(`127.0.0.1:${cli.port}`);
    try {
      const res: ListAgentsResponse = await unary(c.meta.listAgents.bind(c.meta), {});
      expect(res.agents.map((a) => a.name)).toEqual(["JobAgent", "PlainAgent", "EchoAgent"]);
      const metrics = await (await fetch(`http://127.0.0.1:${cli.metricsPort}/metrics`)).text();
      expect(metrics).toContain(
        'flyte_agent_requests_success_total{task_type="",operation="list",protocol="flyte1"} 1',
      );

      const inFlight = unary(c.async.getTask.bind(c.async), {
        taskType: "job",
        // Answers only after the process got SIGTERM: in flight when draining began.
        resourceMeta: Buffer.from('{"job_id": "drain", "hold": "sigterm"}'),
        taskCategory: undefined,
        outputPrefix: "",
      });
      const started = await cli.logged("slow get started");
      expect(started).toMatchObject({ task_type: "job", op: "get" });
      cli.child.kill("SIGTERM");
      const got: GetTaskResponse = await inFlight;
      expect(got.resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
      const result = await cli.child;
      expect(result.exitCode).toBe(0);
      expect(cli.lines.map((l) => l.msg)).toEqual(
        expect.arrayContaining(["draining", "agent server stopped"]),
      );
      expect(result.stderr).toMatch(/JobAgent\s+job_v0\s+no/);
      expect(result.stderr).toMatch(/EchoAgent\s+echo_v0\s+yes/);
    } finally {
      c.close();
      cli.child.kill("SIGKILL");
    }
  });

  it("serves only the --task-types allowlist under the connector alias", async () => {
    const cli = await startServeProcess(["connector", ...local, "--task-types", "echo"]);
    const c = clients(`127.0.0.1:${cli.port}`);
    try {
      const res: ListAgentsResponse = await unary(c.meta.listAgents.bind(c.meta), {});
      expect(res.agents.map((a) => a.name)).toEqual(["EchoAgent"]);
      const err = await failure(
        unary(c.async.getTask.bind(c.async), {
          taskType: "job",
          resourceMeta: Buffer.from("{}"),
          taskCategory: undefined,
          outputPrefix: "",
        }),
      );
      expect(err.code).toBe(status.NOT_FOUND);
    } finally {
      c.close();
      cli.child.kill("SIGTERM");
    }
    expect((await cli.child).exitCode).toBe(0);
  });

  it("serves built-in agents only when --builtin asks for them", async () => {
    const plain = await startServeProcess(["agent", ...local]);
    const withSensor = await startServeProcess(["agent", ...local, "--builtin", "sensor"]);
    const a = clients(`127.0.0.1:${plain.port}`);
    const b = clients(`127.0.0.1:${withSensor.port}`);
    try {
      const names = async (c: typeof a) => {
        const res: ListAgentsResponse = await unary(c.meta.listAgents.bind(c.meta), {});
        return res.agents.flatMap((x) => x.supportedTaskCategories.map((t) => t.name));
      };
      const plainTypes = await names(a);
      expect(plainTypes).not.toContain("sensor");
      expect(plainTypes).not.toContain("webhook");
      const sensorTypes = await names(b);
      expect(sensorTypes).toContain("sensor");
      expect(sensorTypes).not.toContain("webhook");
    } finally {
      a.close();
      b.close();
      plain.child.kill("SIGKILL");
      withSensor.child.kill("SIGKILL");
    }
  });

  it("rejects a bad flag with one sentence and exit code 2", async () => {
    // Flag errors come before any server starts: the CLI's main runs in-process.
    const result = await runCliInProcess(["serve", "agent", "--port", "eighty", "--no-discover"], {
      cwd: root,
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe('error: --port must be a non-negative integer, got "eighty"');
    const missing = await runCliInProcess(["serve", "agent", "-m", "./nope.js", "--no-discover"], {
      cwd: root,
    });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("agent module ./nope.js not found");
    expect(missing.stderr).not.toContain("    at ");
  });
});

describe("flyte-agent-serve (the runtime package's binary)", () => {
  it("is `flyte-agent serve` alone: the same flags, and it serves", async () => {
    // The help text up to the examples (which name the command as typed) lists every flag.
    const flags = async (command: readonly string[]) =>
      (await execa("node", [...command, "agent", "--help"], { cwd: root })).stdout
        .replace(/^Usage: .*$/m, "")
        .split("Examples:")[0];
    const viaCli = await flags([bin, "serve"]);
    expect(viaCli).toContain("--task-types <categories>");
    expect(await flags([serveBin])).toBe(viaCli);

    const cli = await startServeProcess(["connector", ...local], { command: [serveBin] });
    const c = clients(`127.0.0.1:${cli.port}`);
    try {
      const res: ListAgentsResponse = await unary(c.meta.listAgents.bind(c.meta), {});
      expect(res.agents.map((a) => a.name)).toEqual(["JobAgent", "PlainAgent", "EchoAgent"]);
    } finally {
      c.close();
      cli.child.kill("SIGTERM");
    }
    expect((await cli.child).exitCode).toBe(0);
  });
});
