// Flyte 2 rows of the differential table: behaviours of Flyte 2's connector plugin, each citing the
// line of flyteorg/flyte `main` (6fadb90) it encodes (C/ = flyteplugins/go/tasks/plugins/webapi/
// connector/, W/ = flyteplugins/go/tasks/pluginmachinery/internal/webapi/), run through the executor
// with `flyte: 2` against a bare grpc-js flyteidl2.connector server. No row waits on the wall clock:
// polls and error retries run with zero waits.
import { status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { executeTask, type ExecuteTaskOptions, type ExecutionResult } from "../../src/executor/index.js";
import type {
  CreateTaskRequest,
  GetTaskRequest,
  Resource,
} from "../../packages/runtime/src/gen/v2/flyteidl2/connector/connector.js";
import { TaskExecution_Phase } from "../../packages/runtime/src/gen/v2/flyteidl2/core/execution.js";
import { Outputs } from "../../packages/runtime/src/gen/v2/flyteidl2/task/common.js";
import { createManualClock } from "../../packages/runtime/src/core/clock.js";
import { parsePropellerConfig } from "../../packages/runtime/src/propeller/config.js";
import { CONNECTOR_SERVICE_DEFAULT_TIMEOUT_MS } from "../../packages/runtime/src/propeller/defaults.js";
import { deadlineFor } from "../../packages/runtime/src/propeller/config.js";
import { FlyteVersion } from "../../packages/runtime/src/propeller/profile.js";
import { defineTask } from "../../packages/runtime/src/task/define-task.js";
import {
  connectorFor,
  type RawConnectorScript,
  type RawConnectorServer,
  startRawConnectorServer,
} from "./raw-connector-server.js";

const task = defineTask({
  name: "diff2.task",
  taskType: "diff2",
  inputs: { a: z.int(), b: z.string() },
  outputs: { n: z.int() },
  config: { taskType: "diff2", secrets: { token: "diff2_token" }, configs: { region: "eu" } },
});
const bare = defineTask({ name: "diff2.bare", taskType: "diff2", outputs: { n: z.int() } });
// A template with `custom` unset, as flytekit writes one whose `get_custom` returns None (defineTask
// always writes a Struct, empty without a config).
const noCustom = { ...bare, template: () => ({ ...bare.template(), custom: undefined }) };

const res = (phase: TaskExecution_Phase, extra: Partial<Resource> = {}): Resource => ({
  outputs: undefined,
  message: "",
  logLinks: [],
  phase,
  customInfo: undefined,
  ...extra,
});
const OUT = Outputs.fromPartial({
  literals: [{ name: "n", value: { scalar: { primitive: { integer: 7n } } } }],
});
const done = () => res(TaskExecution_Phase.SUCCEEDED, { outputs: OUT });

const servers: RawConnectorServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(script: RawConnectorScript): Promise<RawConnectorServer> {
  const server = await startRawConnectorServer({ connectors: [connectorFor("c", "diff2")], ...script });
  servers.push(server);
  return server;
}

function run(server: RawConnectorServer, extra: Partial<ExecuteTaskOptions> = {}): Promise<ExecutionResult> {
  return executeTask({
    task,
    inputs: { a: 1, b: "x" },
    endpoint: server.address,
    flyte: FlyteVersion.V2,
    pollIntervalMs: 0,
    maxPollIntervalMs: 0,
    errorBackoffMs: 0,
    resolveSecret: async (name) => `value-of-${name}`,
    ...extra,
  });
}

describe("Flyte 2 executor rules (flyteorg/flyte main)", () => {
  it("sends inputs as task.Inputs, the connection with resolved secrets, and metadata without attempt fields [C/plugin.go:171-218,461-473]", async () => {
    const server = await serve({ get: () => done() });
    const result = await run(server);
    expect(result.succeeded).toBe(true);
    expect(result.outputs).toEqual({ n: 7 });
    const create = server.calls.find((c) => c.op === "CreateTask")!.request as CreateTaskRequest;
    expect(create.inputs?.literals.map((l) => l.name).sort()).toEqual(["a", "b"]);
    expect(create.inputs?.context).toEqual([]);
    expect(create.connection).toEqual({
      taskType: "diff2",
      secrets: { token: "value-of-diff2_token" },
      configs: { region: "eu" },
    });
    expect(create.template?.type).toBe("diff2");
    expect(create.taskExecutionMetadata?.namespace).toBe("flytesnacks-development");
    expect(create.taskExecutionMetadata?.maxAttempts).toBe(0);
    const get = server.calls.find((c) => c.op === "GetTask")!.request as GetTaskRequest;
    expect(get.connection).toEqual(create.connection);
    expect(get.outputPrefix).toBe(create.outputPrefix);
  });

  it("polls GetTask right after CreateTask [flytestdlib/autorefreshcache/auto_refresh.go:238-244]", async () => {
    const server = await serve({ get: () => done() });
    await run(server);
    const ops = server.calls.map((c) => c.op).filter((op) => op !== "ListConnectors");
    expect(ops).toEqual(["CreateTask", "GetTask"]);
  });

  it("polls at once, then every 30 s resync tick, re-listing connectors every 10 s [W/cache.go:176-180, C/config.go:29,52, C/plugin.go:387-397]", async () => {
    const server = await serve({
      get: (_req, n) => (n < 3 ? res(TaskExecution_Phase.RUNNING) : done()),
    });
    const clock = createManualClock();
    const result = await run(server, { clock, propellerTiming: true });
    expect(result.succeeded).toBe(true);
    expect(server.count("GetTask")).toBe(3);
    expect(clock.slept.filter((ms) => ms > 0)).toEqual([30_000, 30_000]);
    // The first listing at start, then one before each poll that comes 10 s or more after the last.
    expect(server.count("ListConnectors")).toBe(3);
  });

  it("fails a create whose template has no custom: the connection is read from it [C/plugin.go:171-175, utils/marshal_utils.go:19-22]", async () => {
    const server = await serve({ get: () => done() });
    const result = await run(server, { task: noCustom, inputs: {} });
    expect(result.succeeded).toBe(false);
    expect(result.code).toBe("TaskFailedWithError");
    expect(result.message).toBe(
      "failed to unmarshal connection from task template custom: nil Struct Object passed",
    );
    expect(result.warnings.map((w) => w.rule)).toContain("connection-custom-missing");
    expect(server.count("CreateTask")).toBe(0);
  });

  it("fails a create whose secret cannot be resolved, as an Internal status [C/plugin.go:184-188, W/launcher.go:16-19]", async () => {
    const server = await serve({ get: () => done() });
    const result = await run(server, {
      resolveSecret: async (name) => {
        throw new Error(`secret "${name}" not found`);
      },
    });
    expect(result.message).toBe(
      'rpc error: code = Internal desc = Failed to get secret value with error: secret "diff2_token" not found',
    );
    expect(server.count("CreateTask")).toBe(0);
  });

  it("reports an unset phase as a system error, never a state fallback [C/plugin.go:379-380]", async () => {
    const server = await serve({ get: () => res(TaskExecution_Phase.UNDEFINED) });
    const result = await run(server);
    expect(result.succeeded).toBe(false);
    expect(result.message).toContain("unknown execution phase [UNDEFINED].");
    expect(result.warnings.map((w) => w.rule)).toContain("phase-unset");
  });

  it("shows ABORTED as a failure [C/plugin.go:372-373]", async () => {
    const server = await serve({ get: () => res(TaskExecution_Phase.ABORTED, { message: "gone" }) });
    const result = await run(server);
    expect(result.phase).toBe("ABORTED");
    expect(result.message).toBe("failed to run the job with aborted phase.");
    expect(result.code).toBe("TaskFailedWithError");
  });

  it("ends polling at RETRYABLE_FAILED, retryable, with the connector's message [C/plugin.go:376-377]", async () => {
    const server = await serve({
      get: () => res(TaskExecution_Phase.RETRYABLE_FAILED, { message: "quota" }),
    });
    const result = await run(server, { retries: 1 });
    expect(result.phase).toBe("RETRYABLE_FAILED");
    expect(result.message).toBe("failed to run the job: quota");
    expect(result.attempts).toBe(2);
    expect(server.count("GetTask")).toBe(2);
  });

  it("fails the task after maxSystemFailures+1 GetTask errors with no Resource seen [W/cache.go:97-107, W/monitor.go:33-43]", async () => {
    const server = await serve({ get: () => ({ error: status.UNAVAILABLE, details: "down" }) });
    const result = await run(server);
    expect(result.code).toBe("AutoRefreshCacheFailed");
    expect(result.message).toBe(
      "failed to get task from connector with rpc error: code = Unavailable desc = down",
    );
    expect(server.count("GetTask")).toBe(6);
  });

  it("routes (project, domain) before domain before global [C/plugin.go:400-425, C/client.go:208]", async () => {
    const scoped = await serve({ get: () => done() });
    const global = await serve({ get: () => done() });
    const config = parsePropellerConfig(
      [
        "plugins:",
        "  connector-service:",
        "    connectors:",
        "      - scoped:",
        `          endpoint: ${scoped.address}`,
        "          insecure: true",
        "          project: flytesnacks",
        "          domain: development",
        "      - global:",
        `          endpoint: ${global.address}`,
        "          insecure: true",
      ].join("\n"),
      "config",
      { flyte: 2 },
    );
    await executeTask({ ...baseOptions(), config });
    expect(scoped.count("CreateTask")).toBe(1);
    expect(global.count("CreateTask")).toBe(0);
    const other = defineTask({
      name: "diff2.other",
      taskType: "diff2",
      project: "elsewhere",
      outputs: { n: z.int() },
      config: {},
    });
    await executeTask({ ...baseOptions(), task: other, inputs: {}, config });
    expect(global.count("CreateTask")).toBe(1);
  });

  it("fails with no route and no defaultConnector endpoint [C/plugin.go:427-436]", async () => {
    const server = await serve({ connectors: [connectorFor("c", "other")] });
    const config = parsePropellerConfig(
      [
        "connector-service:",
        "  connectors:",
        "    - c:",
        `        endpoint: ${server.address}`,
        "        insecure: true",
        "  connectorForTaskTypes:",
        "    - diff2: c",
      ].join("\n"),
      "config",
      { flyte: 2 },
    );
    // connectorForTaskTypes registers version 0 only (C/client.go:236-246): version 3 has no route.
    const v3 = defineTask({
      name: "diff2.v3",
      taskType: "diff2",
      taskTypeVersion: 3,
      outputs: { n: z.int() },
      config: {},
    });
    await expect(executeTask({ ...baseOptions(), task: v3, inputs: {}, config })).rejects.toThrow(
      "no connector found for task type [diff2] and version [3]",
    );
  });

  it("reads the Flyte 2 connector-service section with its defaults [C/config.go:13-56,88-109]", () => {
    const config = parsePropellerConfig(
      [
        "plugins:",
        "  connector-service:",
        "    defaultConnector:",
        "      endpoint: dns:///connector:8000",
        "    connectorApps:",
        "      - MyApp:",
        "          endpoint: app:8000",
        "          domain: production",
      ].join("\n"),
      "config",
      { flyte: 2 },
    );
    expect(config.flavor).toBe("connector-service");
    expect(deadlineFor(config.defaultAgent!, "GetTask")).toBe(CONNECTOR_SERVICE_DEFAULT_TIMEOUT_MS);
    expect(config.defaultAgent?.insecure).toBe(true);
    expect(config.apps?.MyApp).toMatchObject({ endpoint: "app:8000", domain: "production", project: "" });
    expect(config.pollIntervalMs).toBe(10_000);
    // viper lowercases map keys, connectorApps' ids included, unless written as a list.
    const lowered = parsePropellerConfig(
      "connector-service:\n  connectorApps:\n    MyApp:\n      endpoint: app:8000\n",
      "config",
      { flyte: 2 },
    );
    expect(Object.keys(lowered.apps ?? {})).toEqual(["myapp"]);
    expect(lowered.warnings.map((w) => w.key)).toEqual(["connector-service.connectorApps.MyApp"]);
    expect(() => parsePropellerConfig("plugins:\n  agent-service: {}\n", "c.yaml", { flyte: 2 })).toThrow(
      "no connector-service section found",
    );
  });
});

function baseOptions(): ExecuteTaskOptions {
  return {
    task,
    inputs: { a: 1, b: "x" },
    flyte: FlyteVersion.V2,
    pollIntervalMs: 0,
    maxPollIntervalMs: 0,
    errorBackoffMs: 0,
    resolveSecret: async (name) => `value-of-${name}`,
  };
}
