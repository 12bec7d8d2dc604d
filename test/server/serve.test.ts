import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  credentials,
  loadPackageDefinition,
  makeGenericClientConstructor,
  status,
  type ServiceError,
  type GrpcObject,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import type {
  CreateTaskResponse,
  GetTaskLogsResponse,
  GetTaskMetricsResponse,
  GetTaskResponse,
  ListAgentsResponse,
} from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";
import { AgentRegistry, TaskExecutionPhase } from "../../packages/runtime/src/index.js";
import {
  HealthService,
  ServingStatus,
  serve,
  type RunningAgentServer,
} from "../../packages/runtime/src/server/index.js";
import { defineTask } from "../../packages/runtime/src/task/index.js";
import { agentEvents, EchoAgent, JobAgent, PlainAgent, releaseJob } from "./fixtures/agents.js";
import { clients, executeSync, failure, memoryLogger, unary } from "./helpers.js";

const jobTask = defineTask({
  name: "job",
  taskType: "job",
  inputs: { n: z.number().int() },
  outputs: { id: z.string(), n: z.number().int() },
});
const echoTask = defineTask({
  name: "echo",
  taskType: "echo",
  inputs: { text: z.string() },
  outputs: { text: z.string() },
});

function registry(): AgentRegistry {
  const r = new AgentRegistry();
  r.register(new JobAgent());
  r.register(new PlainAgent());
  r.register(new EchoAgent());
  return r;
}

const base = {
  host: "127.0.0.1",
  // Quiet test output: a test that reads the log passes its own logger.
  logLevel: "silent",
  port: 0,
  prometheusPort: 0,
  discover: false,
  handleSignals: false,
  banner: false,
} as const;

const getReq = (meta: object | string, name = "job") => ({
  taskType: "",
  resourceMeta: Buffer.from(typeof meta === "string" ? meta : JSON.stringify(meta)),
  taskCategory: { name, version: 0 },
  outputPrefix: "/tmp/out",
});

/** A generic client for a service described by a .proto file (health, reflection). */
function genericClient(protoFile: string, includeDir: string, service: string, address: string) {
  const def = loadSync(protoFile, {
    includeDirs: [includeDir],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  });
  let obj: unknown = loadPackageDefinition(def);
  for (const part of service.split(".")) obj = (obj as GrpcObject)[part];
  const Ctor = obj as new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => any;
  return new Ctor(address, credentials.createInsecure());
}

/** A client of the server's own health definition (raw protobuf bytes in and out). */
function healthClient(address: string): any {
  const Health = makeGenericClientConstructor(HealthService, "Health");
  return new Health(address, credentials.createInsecure());
}

const here = path.dirname(fileURLToPath(import.meta.url));
const reflectionProtos = path.resolve(here, "../../node_modules/@grpc/reflection/build/proto");

describe("serve() over a real socket", () => {
  let running: RunningAgentServer;
  let c: ReturnType<typeof clients>;
  const logger = memoryLogger();

  beforeAll(async () => {
    running = await serve({ ...base, registry: registry(), logger });
    c = clients(running.address);
  });
  afterAll(async () => {
    c.close();
    await running.stop();
  });

  it("runs an async task through CreateTask, GetTask and DeleteTask", async () => {
    const created: CreateTaskResponse = await unary(c.async.createTask.bind(c.async), {
      inputs: jobTask.encodeInputs({ n: 5 }),
      template: jobTask.template(),
      outputPrefix: "/tmp/out",
      taskExecutionMetadata: {
        taskExecutionId: {
          taskId: undefined,
          nodeExecutionId: {
            nodeId: "n0",
            executionId: { project: "p", domain: "d", name: "exec1", org: "" },
          },
          retryAttempt: 1,
        },
        namespace: "p-d",
        labels: {},
        annotations: {},
        k8sServiceAccount: "",
        environmentVariables: { API_TOKEN: "hunter2" },
        maxAttempts: 0,
        interruptible: false,
        interruptibleFailureThreshold: 0,
        overrides: undefined,
        identity: undefined,
      },
    });
    expect(created.resourceMeta.toString()).toBe('{"job_id": "job-5"}');
    const got: GetTaskResponse = await unary(c.async.getTask.bind(c.async), getReq({ job_id: "job-5" }));
    expect(got.resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
    expect(jobTask.decodeOutputs(got.resource!.outputs)).toEqual({ id: "job-5", n: 3 });
    await unary(c.async.deleteTask.bind(c.async), {
      taskType: "job",
      resourceMeta: created.resourceMeta,
      taskCategory: undefined,
    });
    // The agent's own log line carries the call's task execution id and task type; secrets never show.
    const line = logger.lines.find((l) => l.msg === "creating job");
    expect(line).toMatchObject({ task_type: "job", op: "create", task_execution_id: "p/d/exec1/n0/1", n: 5 });
    expect(JSON.stringify(logger.lines)).not.toContain("hunter2");
  });

  it("answers GetTaskMetrics and streams GetTaskLogs chunk by chunk", async () => {
    const metrics: GetTaskMetricsResponse = await unary(c.async.getTaskMetrics.bind(c.async), {
      taskType: "",
      resourceMeta: Buffer.from('{"job_id": "j1"}'),
      queries: ["CPU_USAGE"],
      startTime: undefined,
      endTime: undefined,
      step: undefined,
      taskCategory: { name: "job", version: 0 },
    });
    expect(metrics.results).toEqual([{ metric: "CPU_USAGE", data: { job: "j1", values: [1, 2] } }]);
    const stream = c.async.getTaskLogs({
      taskType: "",
      resourceMeta: Buffer.from('{"job_id": "j1"}'),
      lines: 10n,
      token: "",
      taskCategory: { name: "job", version: 0 },
    });
    const messages: GetTaskLogsResponse[] = [];
    stream.on("data", (m: GetTaskLogsResponse) => messages.push(m));
    await once(stream, "end");
    expect(messages.map((m) => m.header?.token ?? m.body?.results)).toEqual([
      "t1",
      ["j1: line 1", "j1: line 2"],
      ["j1: line 3"],
    ]);
  });

  it("answers ExecuteTaskSync with one message whose header carries the outputs", async () => {
    const responses = await executeSync(c.sync, [
      {
        header: {
          template: echoTask.template(),
          outputPrefix: "/tmp/o",
          taskExecutionMetadata: undefined,
          maxDatasetSizeBytes: 0n,
        },
      },
      { inputs: echoTask.encodeInputs({ text: "hi" }) },
    ]);
    expect(responses).toHaveLength(1);
    expect(responses[0]!.header!.resource!.phase).toBe(TaskExecutionPhase.SUCCEEDED);
    expect(echoTask.decodeOutputs(responses[0]!.header!.resource!.outputs)).toEqual({ text: "HI" });
  });

  it("lists agents with categories and is_sync, and describes one by name", async () => {
    const res: ListAgentsResponse = await unary(c.meta.listAgents.bind(c.meta), {});
    expect(res.agents.map((a) => [a.name, a.isSync, a.supportedTaskCategories])).toEqual([
      ["JobAgent", false, [{ name: "job", version: 0 }]],
      ["PlainAgent", false, [{ name: "plain", version: 0 }]],
      ["EchoAgent", true, [{ name: "echo", version: 0 }]],
    ]);
    const one = await unary(c.meta.getAgent.bind(c.meta), { name: "EchoAgent" });
    expect(one.agent).toMatchObject({ name: "EchoAgent", isSync: true, supportedTaskTypes: ["echo"] });
    const missing = await failure(unary(c.meta.getAgent.bind(c.meta), { name: "Nope" }));
    expect(missing.code).toBe(status.NOT_FOUND);
    expect(missing.details).toContain("JobAgent");
  });

  describe("maps errors in one place", () => {
    it("answers NOT_FOUND naming the unknown category and listing what is served", async () => {
      const err = await failure(unary(c.async.getTask.bind(c.async), getReq({}, "bigquery")));
      expect(err.code).toBe(status.NOT_FOUND);
      expect(err.details).toBe(
        "Cannot find connector for task category: bigquery_v0. Available: [echo_v0, job_v0, plain_v0]",
      );
    });

    it("answers INVALID_ARGUMENT for undecodable resource meta and for a create without a template", async () => {
      const bad = await failure(unary(c.async.getTask.bind(c.async), getReq("{not json")));
      expect(bad.code).toBe(status.INVALID_ARGUMENT);
      const noTemplate = await failure(
        unary(c.async.createTask.bind(c.async), {
          inputs: undefined,
          template: undefined,
          outputPrefix: "",
          taskExecutionMetadata: undefined,
        }),
      );
      expect(noTemplate.code).toBe(status.INVALID_ARGUMENT);
    });

    it("answers UNIMPLEMENTED when the agent has no metrics or logs", async () => {
      const metrics = await failure(
        unary(c.async.getTaskMetrics.bind(c.async), {
          taskType: "plain",
          resourceMeta: Buffer.from("{}"),
          queries: [],
          startTime: undefined,
          endTime: undefined,
          step: undefined,
          taskCategory: undefined,
        }),
      );
      expect(metrics.code).toBe(status.UNIMPLEMENTED);
      const stream = c.async.getTaskLogs({
        taskType: "plain",
        resourceMeta: Buffer.from("{}"),
        lines: 1n,
        token: "",
        taskCategory: undefined,
      });
      stream.on("data", () => {});
      const [err] = (await once(stream, "error")) as [ServiceError];
      expect(err.code).toBe(status.UNIMPLEMENTED);
    });

    it("answers INTERNAL with one line for an agent exception and keeps the stack in the server log", async () => {
      const err = await failure(unary(c.async.getTask.bind(c.async), getReq({ job_id: "job-boom" })));
      expect(err.code).toBe(status.INTERNAL);
      expect(err.details).toBe("failed to get job task with error: backend exploded");
      const logged = logger.lines.find((l) => l.msg === "get failed" && l.level === "error");
      expect((logged?.err as Error).stack).toContain("secret stack frame");
    });

    it("refuses a sync call to an async-only agent, and an async call to a sync agent, with FAILED_PRECONDITION", async () => {
      const sync = await failure(
        executeSync(c.sync, [
          {
            header: {
              template: jobTask.template(),
              outputPrefix: "",
              taskExecutionMetadata: undefined,
              maxDatasetSizeBytes: 0n,
            },
          },
          { inputs: jobTask.encodeInputs({ n: 1 }) },
        ]),
      );
      expect(sync.code).toBe(status.FAILED_PRECONDITION);
      expect(sync.details).toContain("CreateTask");
      const get = await failure(unary(c.async.getTask.bind(c.async), getReq({}, "echo")));
      expect(get.code).toBe(status.FAILED_PRECONDITION);
      expect(get.details).toContain("ExecuteTaskSync");
    });

    it("logs a Resource without an explicit phase as an agent bug", async () => {
      const got: GetTaskResponse = await unary(
        c.async.getTask.bind(c.async),
        getReq({ job_id: "job-nophase" }),
      );
      expect(got.resource?.phase).toBe(0);
      expect(logger.lines.some((l) => l.level === "error" && String(l.msg).includes("without a phase"))).toBe(
        true,
      );
    });

    it("fires the agent's AbortSignal and answers DEADLINE_EXCEEDED past the deadline", async () => {
      const aborted = once(agentEvents, "aborted");
      const err = await failure(
        unary(c.async.getTask.bind(c.async), getReq({ job_id: "slow-1", hold: "release" }), 150),
      );
      expect(err.code).toBe(status.DEADLINE_EXCEEDED);
      expect(await aborted).toEqual(["slow-1"]);
    });

    it("fires the agent's AbortSignal when the client cancels a call in flight", async () => {
      const started = once(agentEvents, "started");
      const aborted = once(agentEvents, "aborted");
      const answer = new Promise<ServiceError | null>((resolve) => {
        const call = c.async.getTask(getReq({ job_id: "slow-3", hold: "release" }), (e) => resolve(e));
        void started.then(() => call.cancel());
      });
      expect((await answer)?.code).toBe(status.CANCELLED);
      expect(await aborted).toEqual(["slow-3"]);
    });
  });

  it("reports SERVING for the server and each agent service through grpc.health.v1", async () => {
    const health = healthClient(running.address);
    const check = (service: string) =>
      new Promise<Buffer>((resolve, reject) =>
        health.check(
          Buffer.from(service ? [0x0a, service.length, ...Buffer.from(service)] : []),
          (e: Error | null, r: Buffer) => (e ? reject(e) : resolve(r)),
        ),
      );
    for (const service of [
      "",
      "flyteidl.service.AsyncAgentService",
      "flyteidl.service.SyncAgentService",
      "flyteidl.service.AgentMetadataService",
      "flyteidl2.connector.AsyncConnectorService",
      "flyteidl2.connector.ConnectorMetadataService",
    ]) {
      expect(await check(service)).toEqual(Buffer.from([0x08, ServingStatus.SERVING]));
    }
    const unknown = await failure(check("nope"));
    expect(unknown.code).toBe(status.NOT_FOUND);
    health.close();
  });

  it("serves reflection so generic tools can list and describe the services", async () => {
    await running.server.reflectionReady;
    const client = genericClient(
      "grpc/reflection/v1/reflection.proto",
      reflectionProtos,
      "grpc.reflection.v1.ServerReflection",
      running.address,
    );
    const call = client.ServerReflectionInfo();
    const answers: any[] = [];
    call.on("data", (m: unknown) => answers.push(m));
    call.write({ list_services: "" });
    call.write({ file_containing_symbol: "flyteidl.service.AsyncAgentService" });
    call.end();
    await once(call, "end");
    client.close();
    const names = answers[0].list_services_response.service.map((s: { name: string }) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "flyteidl.service.AsyncAgentService",
        "flyteidl.service.SyncAgentService",
        "flyteidl.service.AgentMetadataService",
        "grpc.health.v1.Health",
      ]),
    );
    expect(answers[1].file_descriptor_response.file_descriptor_proto.length).toBeGreaterThan(0);
  });

  it("serves v1alpha reflection too, for older grpcurl", async () => {
    const client = genericClient(
      "grpc/reflection/v1alpha/reflection.proto",
      reflectionProtos,
      "grpc.reflection.v1alpha.ServerReflection",
      running.address,
    );
    const call = client.ServerReflectionInfo();
    const answers: any[] = [];
    call.on("data", (m: unknown) => answers.push(m));
    call.write({ list_services: "" });
    call.end();
    await once(call, "end");
    client.close();
    const names = answers[0].list_services_response.service.map((s: { name: string }) => s.name);
    expect(names).toContain("flyteidl.service.AsyncAgentService");
  });

  it("exposes flytekit's series and the in-flight and runtime series on /metrics", async () => {
    await unary(c.async.getTask.bind(c.async), getReq({ job_id: "m1" }));
    await failure(unary(c.async.getTask.bind(c.async), getReq({}, "metered")));
    const res = await fetch(`http://127.0.0.1:${running.metricsPort}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const value = (series: string) => {
      const line = text.split("\n").find((l) => l.startsWith(series + " "));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(
      value('flyte_agent_requests_success_total{task_type="job",operation="get",protocol="flyte1"}'),
    ).toBeGreaterThanOrEqual(1);
    // "metered" is served by no agent: it is counted under the one label for every such task type.
    expect(
      value(
        'flyte_agent_requests_failure_total{task_type="unknown",operation="get",error_code="NOT_FOUND",protocol="flyte1"}',
      ),
    ).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('task_type="metered"');
    expect(
      value('flyte_agent_request_latency_seconds_count{task_type="job",operation="get",protocol="flyte1"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value('flyte_agent_input_literal_bytes_count{task_type="job",protocol="flyte1"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(value('flyte_agent_input_literal_bytes_sum{task_type="job",protocol="flyte1"}')).toBeGreaterThan(
      0,
    );
    expect(
      value('flyte_agent_requests_success_total{task_type="echo",operation="do",protocol="flyte1"}'),
    ).toBe(1);
    expect(value("flyte_agent_requests_in_flight")).toBe(0);
    expect(text).toContain("nodejs_eventloop_lag_seconds");
    expect(text).toContain("process_resident_memory_bytes");
  });
});

describe("serve() limits", () => {
  it("serves and advertises only the allowlisted task types", async () => {
    const running = await serve({
      ...base,
      prometheusPort: false,
      registry: registry(),
      taskTypes: ["job,echo_v0"],
    });
    const c = clients(running.address);
    try {
      const res: ListAgentsResponse = await unary(c.meta.listAgents.bind(c.meta), {});
      expect(res.agents.flatMap((a) => a.supportedTaskTypes).sort()).toEqual(["echo", "job"]);
      const err = await failure(unary(c.async.getTask.bind(c.async), getReq({}, "plain")));
      expect(err.code).toBe(status.NOT_FOUND);
      expect(err.details).toContain("Available: [echo_v0, job_v0]");
    } finally {
      c.close();
      await running.stop();
    }
  });

  it("refuses to start with an allowlist naming a task type nobody serves", async () => {
    await expect(
      serve({ ...base, prometheusPort: false, registry: registry(), taskTypes: ["bigquery"] }),
    ).rejects.toThrow(
      "the task-type allowlist names bigquery, which no loaded agent serves (loaded: [echo_v0, job_v0, plain_v0])",
    );
  });

  it("answers RESOURCE_EXHAUSTED beyond max-concurrent calls in flight", async () => {
    const running = await serve({ ...base, registry: registry(), maxConcurrent: 1, logger: memoryLogger() });
    const c = clients(running.address);
    try {
      const started = once(agentEvents, "started");
      const slow = unary(c.async.getTask.bind(c.async), getReq({ job_id: "slow-2", hold: "release" }));
      await started;
      const refused = await failure(unary(c.async.getTask.bind(c.async), getReq({ job_id: "x" })));
      expect(refused.code).toBe(status.RESOURCE_EXHAUSTED);
      releaseJob("slow-2");
      expect((await slow).resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
      const text = await (await fetch(`http://127.0.0.1:${running.metricsPort}/metrics`)).text();
      expect(text).toContain('flyte_agent_requests_rejected_total{operation="get",protocol="flyte1"} 1');
    } finally {
      c.close();
      await running.stop();
    }
  });

  it("stops draining once timeoutSeconds pass, with the stop reason timeout", async () => {
    // serve() schedules the stop with setTimeout: faked here, so a minute passes without waiting.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const logger = memoryLogger();
      const running = await serve({
        ...base,
        registry: registry(),
        prometheusPort: false,
        timeoutSeconds: 60,
        logger,
      });
      await vi.advanceTimersByTimeAsync(59_999);
      expect(running.stopReason).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      await running.closed;
      expect(running.stopReason).toBe("timeout");
      expect(logger.lines.map((l) => l.msg)).toEqual(
        expect.arrayContaining(["timeout reached: stopping", "agent server stopped"]),
      );
    } finally {
      vi.useRealTimers();
    }
  });

  it("turns health NOT_SERVING when draining and lets a call in flight finish", async () => {
    const running = await serve({
      ...base,
      registry: registry(),
      prometheusPort: false,
      gracePeriodSeconds: 10,
    });
    const c = clients(running.address);
    const health = healthClient(running.address);
    const watch = health.watch(Buffer.alloc(0));
    const statuses: Buffer[] = [];
    let draining: () => void = () => {};
    const notServing = new Promise<void>((resolve) => (draining = resolve));
    watch.on("data", (b: Buffer) => {
      statuses.push(b);
      if (b[1] === ServingStatus.NOT_SERVING) draining();
    });
    const watchEnded = once(watch, "end");
    const started = once(agentEvents, "started");
    const inFlight = unary(c.async.getTask.bind(c.async), getReq({ job_id: "drain-1", hold: "release" }));
    await started;
    const stopped = running.stop();
    // The call is let finish only once the server drains: it was in flight all along.
    await notServing;
    releaseJob("drain-1");
    const got: GetTaskResponse = await inFlight;
    expect(got.resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
    await stopped;
    await watchEnded;
    expect(statuses.map((b) => b[1])).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    c.close();
    health.close();
  });
});
