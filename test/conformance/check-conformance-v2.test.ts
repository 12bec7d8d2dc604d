// conformance against Flyte 2 servers (flyteidl2.connector): our server serving both protocols, a
// bare grpc-js server serving only Flyte 2, one serving only Flyte 1, and servers that break a rule.
import { appendFileSync, readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkConformance, type ConformanceReport, PROBE_SECRET } from "../../src/conformance/index.js";
import { createManualClock } from "../../packages/runtime/src/core/clock.js";
import { AgentRegistry } from "../../packages/runtime/src/core/registry.js";
import type { Resource } from "../../packages/runtime/src/gen/v2/flyteidl2/connector/connector.js";
import { TaskExecution_Phase } from "../../packages/runtime/src/gen/v2/flyteidl2/core/execution.js";
import { Literal } from "../../packages/runtime/src/gen/v2/flyteidl2/core/literals.js";
import { AgentServer, createServerLogger } from "../../packages/runtime/src/server/index.js";
import { connectorFor, startRawConnectorServer } from "../propeller/raw-connector-server.js";
import { ConnectionAgent, connectionTask } from "./fixtures/connection-agent.js";
import { startBrokenServer } from "./fixtures/broken-server.js";
import { InlineAgent } from "./fixtures/good-agents.js";

// Polls wait on a manual clock, which the good agents' jobs run on too: nothing waits on the wall clock.
const clock = createManualClock();
const fast = { clock, pollIntervalMs: 10_000 };
const secrets = { "warehouse-token": "tok-7f3a9c" };

const statuses = (report: ConformanceReport, flyte?: 1 | 2) =>
  Object.fromEntries(report.checks.filter((c) => c.flyte === flyte).map((c) => [c.id, c.status]));
const evidence = (report: ConformanceReport, id: string) =>
  report.checks.find((c) => c.id === id)?.evidence ?? `(no ${id} check)`;

const v2Resource = (phase: TaskExecution_Phase, extra: Partial<Resource> = {}): Resource => ({
  outputs: undefined,
  message: "",
  logLinks: [],
  phase,
  customInfo: undefined,
  ...extra,
});

describe("checkConformance against one server serving Flyte 1 and Flyte 2", () => {
  let server: AgentServer;
  let agent: ConnectionAgent;
  beforeAll(async () => {
    agent = new ConnectionAgent();
    const registry = new AgentRegistry();
    registry.register(agent);
    registry.register(new InlineAgent(clock.now));
    server = await AgentServer.start({ registry, host: "127.0.0.1", port: 0, health: true });
  });
  afterAll(async () => {
    await server.shutdown(1000);
  });

  it("detects both protocols and passes each, the connection reaching the agent on every call", async () => {
    agent.seen.length = 0;
    const report = await checkConformance({
      endpoint: server.address,
      task: connectionTask,
      inputs: { n: 4 },
      secrets,
      ...fast,
    });
    expect(report.ok).toBe(true);
    expect(report.protocols).toEqual({ flyte1: "served", flyte2: "served" });
    expect(statuses(report)).toEqual({ health: "pass", protocols: "pass" });
    expect(statuses(report, 1)).toMatchObject({
      "list-agents": "pass",
      create: "pass",
      "task.result": "pass",
    });
    expect(statuses(report, 2)).toEqual({
      "v2.list-connectors": "pass",
      "v2.list-connectors.unique": "pass",
      "v2.get-connector": "pass",
      "v2.get-connector.unknown": "pass",
      "v2.unknown-category": "pass",
      "v2.task.listed": "pass",
      "v2.create": "pass",
      "v2.phase": "pass",
      "v2.get.deadline": "pass",
      "v2.get.terminal": "pass",
      "v2.task.result": "pass",
      "v2.outputs": "pass",
      "v2.delete": "pass",
      "v2.logs": "pass",
      "v2.connection": "pass",
      "v2.secrets": "pass",
      "v2.response-size": "pass",
    });
    expect(evidence(report, "v2.logs")).toMatch(/3 message\(s\), 2 line\(s\), ended OK/);
    // The resolved value of the secret the task's custom names, and the configs, on each Flyte 2 call.
    const v2Calls = agent.seen.filter((s) => s.token !== undefined);
    expect(v2Calls.map((s) => s.call)).toEqual(expect.arrayContaining(["create", "get", "delete"]));
    expect(new Set(v2Calls.map((s) => `${s.token} ${s.region}`))).toEqual(new Set(["tok-7f3a9c eu-west-1"]));
    // Flyte 1 calls carry no connection.
    expect(agent.seen.some((s) => s.token === undefined && s.call === "create")).toBe(true);
  });

  it("checks only the protocol asked for", async () => {
    const report = await checkConformance({ endpoint: server.address, flyte: "2", ...fast });
    expect(report.protocols).toEqual({ flyte1: "not-checked", flyte2: "served" });
    expect(report.checks.some((c) => c.flyte === 1)).toBe(false);
    expect(report.ok).toBe(true);
  });

  it("searches the server's own log, where the connection shows only redacted", async () => {
    const dir = await mkdtemp(join(tmpdir(), "conformance-log-"));
    const logFile = join(dir, "server.log");
    // The server's pino log, written synchronously so it is complete when conformance reads it.
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        appendFileSync(logFile, chunk);
        done();
      },
    });
    const registry = new AgentRegistry();
    registry.register(new ConnectionAgent());
    const logged = await AgentServer.start({
      registry,
      host: "127.0.0.1",
      port: 0,
      logger: await createServerLogger({ level: "debug", destination }),
    });
    try {
      const report = await checkConformance({
        endpoint: logged.address,
        flyte: "2",
        task: connectionTask,
        inputs: { n: 1 },
        secrets,
        logFile,
        ...fast,
      });
      expect(statuses(report, 2)["v2.secrets"]).toBe("pass");
      expect(evidence(report, "v2.secrets")).toMatch(/the server's log \(.*\) holds none/);
      expect(readFileSync(logFile, "utf8")).toMatch(/"submitting the job"/);
      expect(readFileSync(logFile, "utf8")).toMatch(/"connection":\{[^}]*"secrets":"\[redacted\]"/);
    } finally {
      await logged.shutdown(100);
    }
  });

  it("finds a secret value in the server's log when given the log", async () => {
    const dir = await mkdtemp(join(tmpdir(), "conformance-log-"));
    const logFile = join(dir, "server.log");
    await writeFile(logFile, `{"msg":"calling the warehouse with tok-7f3a9c"}\n`);
    const report = await checkConformance({
      endpoint: server.address,
      flyte: "2",
      task: connectionTask,
      inputs: { n: 1 },
      secrets,
      logFile,
      ...fast,
    });
    expect(statuses(report, 2)["v2.secrets"]).toBe("fail");
    expect(evidence(report, "v2.secrets")).toContain(`the server's log (${logFile})`);
  });

  it("fails an agent that keeps a secret in resource_meta", async () => {
    const registry = new AgentRegistry();
    registry.register(new ConnectionAgent(true));
    const leaky = await AgentServer.start({ registry, host: "127.0.0.1", port: 0 });
    try {
      const report = await checkConformance({
        endpoint: leaky.address,
        flyte: "2",
        task: connectionTask,
        inputs: { n: 1 },
        secrets,
        ...fast,
      });
      expect(statuses(report, 2)["v2.secrets"]).toBe("fail");
      expect(evidence(report, "v2.secrets")).toMatch(/appears in CreateTask/);
      expect(report.ok).toBe(false);
    } finally {
      await leaky.shutdown(100);
    }
  });
});

describe("checkConformance against a server that serves one protocol", () => {
  it("checks a Flyte 2-only server as such, and fails it when Flyte 1 is required", async () => {
    const raw = await startRawConnectorServer({
      connectors: [connectorFor("c", "uses_connection")],
      get: () =>
        v2Resource(TaskExecution_Phase.SUCCEEDED, {
          outputs: {
            literals: [
              { name: "doubled", value: Literal.fromPartial({ scalar: { primitive: { integer: 8n } } }) },
            ],
          },
        }),
      delete: () => undefined,
    });
    try {
      const auto = await checkConformance({
        endpoint: raw.address,
        task: connectionTask,
        inputs: { n: 4 },
        ...fast,
      });
      expect(auto.protocols).toEqual({ flyte1: "not-served", flyte2: "served" });
      expect(evidence(auto, "protocols")).toMatch(
        /Flyte 1 \(flyteidl.service\) is not served \(ListAgents: UNIMPLEMENTED/,
      );
      expect(auto.checks.some((c) => c.flyte === 1)).toBe(false);
      expect(statuses(auto, 2)).toMatchObject({
        "v2.create": "pass",
        "v2.get.terminal": "pass",
        "v2.outputs": "pass",
      });
      // The connection sent: task_type and configs from the template's custom, the secret resolved.
      const create = raw.calls.find(
        (c) =>
          c.op === "CreateTask" &&
          (c.request as { template?: { type: string } }).template?.type === "uses_connection",
      )!.request as {
        connection: { taskType: string; secrets: Record<string, string>; configs: Record<string, string> };
      };
      expect(create.connection.configs).toEqual({ region: "eu-west-1" });
      expect(Object.keys(create.connection.secrets).sort()).toEqual([PROBE_SECRET, "token"].sort());
      expect(create.connection.secrets.token).toMatch(/^conformance-secret-[0-9a-f]{24}$/);
      expect(auto.ok).toBe(true);

      const one = await checkConformance({ endpoint: raw.address, flyte: "1", ...fast });
      expect(one.ok).toBe(false);
      expect(statuses(one)).toEqual({ health: "warn", protocols: "fail" });
      expect(evidence(one, "protocols")).toMatch(/the server must serve Flyte 1 \(asked with --flyte 1\)/);
    } finally {
      await raw.close();
    }
  });

  it("checks a Flyte 1-only server as such, and fails it when Flyte 2 is required", async () => {
    const broken = await startBrokenServer([]);
    try {
      const auto = await checkConformance({ endpoint: broken.address, ...fast });
      expect(auto.protocols).toEqual({ flyte1: "served", flyte2: "not-served" });
      expect(auto.checks.some((c) => c.flyte === 2)).toBe(false);
      expect(auto.ok).toBe(true);
      const two = await checkConformance({ endpoint: broken.address, flyte: "2", ...fast });
      expect(two.ok).toBe(false);
      expect(evidence(two, "protocols")).toMatch(/ListConnectors: UNIMPLEMENTED/);
    } finally {
      broken.close();
    }
  });
});

describe("checkConformance against Flyte 2 servers that break a rule", () => {
  it("fails an unset phase, a secret in resource_meta and a log message that is neither header nor body", async () => {
    let secret = "";
    const raw = await startRawConnectorServer({
      connectors: [connectorFor("c", "uses_connection")],
      create: (req) => {
        secret = req.connection?.secrets[PROBE_SECRET] ?? "";
        return { resourceMeta: Buffer.from(JSON.stringify({ key: secret })) };
      },
      get: (_req, n) =>
        n === 1
          ? v2Resource(TaskExecution_Phase.UNDEFINED)
          : v2Resource(TaskExecution_Phase.FAILED, { message: "boom" }),
      logs: () => ({ messages: [{}], error: undefined }),
    });
    try {
      const report = await checkConformance({
        endpoint: raw.address,
        flyte: "2",
        task: connectionTask,
        inputs: { n: 1 },
        ...fast,
      });
      const s = statuses(report, 2);
      expect(s).toMatchObject({
        "v2.phase": "fail",
        "v2.secrets": "fail",
        "v2.task.result": "warn",
        "v2.logs": "fail",
      });
      expect(evidence(report, "v2.phase")).toMatch(/unknown execution phase \[UNDEFINED\]/);
      expect(evidence(report, "v2.logs")).toMatch(/message\(s\) 1 carry neither a header nor a body/);
      expect(secret).toMatch(/^conformance-secret-/);
    } finally {
      await raw.close();
    }
  });
});
