import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, credentials } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  CreateTaskRequest,
  type ExecuteTaskSyncRequest,
  type TaskExecutionMetadata,
} from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";
import { LiteralMap } from "../../packages/runtime/src/gen/flyteidl/core/literals.js";
import { TaskTemplate } from "../../packages/runtime/src/gen/flyteidl/core/tasks.js";
import {
  AgentRegistry,
  AsyncAgentBase,
  SyncAgentBase,
  TaskExecutionPhase,
  type Resource,
  type TaskRequest,
} from "../../packages/runtime/src/index.js";
import { readRecordedRequest, replayRequest } from "../../src/executor/index.js";
import {
  AgentServer,
  decodeRecordedSyncRequests,
  REDACTED,
  RequestRecorder,
} from "../../packages/runtime/src/server/index.js";
import { defineTask } from "../../packages/runtime/src/task/index.js";
import { clients, executeSync, memoryLogger, unary } from "./helpers.js";

const Meta = z.object({ job_id: z.string() });

/** Remembers the template and metadata of every create, to check what an agent is given on replay. */
class JobAgent extends AsyncAgentBase<typeof Meta> {
  readonly seen: TaskRequest[] = [];
  constructor() {
    super({ taskTypeName: "job", metadataSchema: Meta });
  }
  async create(request: TaskRequest) {
    this.seen.push(request);
    // An agent that changes what it was given must not change what is recorded.
    if (request.inputs.n === 13) request.taskTemplate.type = "changed by the agent";
    return { job_id: `job-${String(request.inputs.n)}` };
  }
  async get(meta: z.output<typeof Meta>): Promise<Resource> {
    return { phase: TaskExecutionPhase.SUCCEEDED, outputs: { id: meta.job_id } };
  }
  async delete() {}
}

class EchoAgent extends SyncAgentBase {
  constructor() {
    super({ taskTypeName: "echo" });
  }
  async do({ inputs }: TaskRequest): Promise<Resource> {
    return { phase: TaskExecutionPhase.SUCCEEDED, outputs: { text: String(inputs.text).toUpperCase() } };
  }
}

const jobTask = defineTask({
  name: "job",
  taskType: "job",
  inputs: { n: z.number().int() },
  outputs: { id: z.string() },
  config: {
    query: "select 1",
    password: "hunter2",
    nested: { region: "eu", accessToken: "abc", list: [{ api_key: "k", keep: 1 }] },
  },
});
const echoTask = defineTask({
  name: "echo",
  taskType: "echo",
  inputs: { text: z.string() },
  outputs: { text: z.string() },
});

/** What FlytePropeller sends, rendered: a template with env, config and custom, and real metadata. */
function propellerTemplate(base: TaskTemplate): TaskTemplate {
  return {
    ...base,
    config: { region: "eu-west-1", AUTH_HEADER: "Bearer xyz" },
    container: {
      image: "ghcr.io/acme/agent:1",
      command: [],
      args: ["--inputs", "s3://bucket/metadata/inputs.pb", "--output-prefix", "s3://bucket/out/0"],
      env: [{ key: "FOO", value: "bar" }],
      config: [],
      ports: [],
      architecture: 0,
      resources: undefined,
      dataConfig: undefined,
    },
    k8sPod: {
      metadata: undefined,
      dataConfig: undefined,
      primaryContainerName: "primary",
      podSpec: {
        containers: [{ name: "primary", env: [{ name: "GCP_KEY", value: "pod-secret" }, { name: "X" }] }],
      },
    },
  };
}

const metadata: TaskExecutionMetadata = {
  taskExecutionId: {
    taskId: {
      resourceType: 1,
      project: "flytesnacks",
      domain: "development",
      name: "job",
      version: "v1",
      org: "",
    },
    nodeExecutionId: {
      nodeId: "n3",
      executionId: { project: "flytesnacks", domain: "development", name: "f8c1a0b2e4", org: "" },
    },
    retryAttempt: 2,
  },
  namespace: "flytesnacks-development",
  labels: { team: "data", "vault-token": "s.123" },
  annotations: { note: "hi" },
  k8sServiceAccount: "default",
  environmentVariables: { PLAIN: "value", DB_PASSWORD: "p4ss" },
  maxAttempts: 3,
  interruptible: false,
  interruptibleFailureThreshold: 0,
  overrides: undefined,
  identity: undefined,
};

let base: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "flyte-agent-record-"));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

let dirs = 0;
const newDir = () => join(base, `d${++dirs}`);

/** A server on port 0 serving a fresh JobAgent and EchoAgent, recording into a fresh directory. */
async function recordingServer(options: { logger?: ReturnType<typeof memoryLogger> } = {}) {
  const registry = new AgentRegistry();
  const job = new JobAgent();
  registry.register(job);
  registry.register(new EchoAgent());
  const recorder = await RequestRecorder.create({ dir: newDir(), ...options });
  const server = await AgentServer.start({ registry, host: "127.0.0.1", port: 0, recorder });
  return { server, recorder, job };
}

const servers: AgentServer[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.forceShutdown();
});

async function recordedFiles(recorder: RequestRecorder): Promise<string[]> {
  await recorder.flushed();
  return (await readdir(recorder.dir)).sort().map((n) => join(recorder.dir, n));
}

describe("serve --record then run --replay", () => {
  it("replays a recorded CreateTask with byte-identical template, inputs and metadata at a fresh server", async () => {
    const a = await recordingServer();
    servers.push(a.server);
    const c = clients(a.server.address);
    const sent: CreateTaskRequest = {
      inputs: jobTask.encodeInputs({ n: 7 }),
      template: propellerTemplate(jobTask.template()),
      outputPrefix: "s3://bucket/out/0",
      taskExecutionMetadata: metadata,
    };
    await unary(c.async.createTask.bind(c.async), sent);
    c.close();
    const [fileA, ...more] = await recordedFiles(a.recorder);
    expect(more).toEqual([]);
    expect(fileA).toMatch(/\/\d{8}T\d{9}Z-create-job-[0-9a-f]{8}\.pb$/);

    const request = await readRecordedRequest(fileA!);
    const b = await recordingServer();
    servers.push(b.server);
    const result = await replayRequest({ request, endpoint: b.server.address, outputDir: newDir() });
    expect(result.succeeded).toBe(true);
    expect(result.outputs).toEqual({ id: "job-7" });

    const [fileB] = await recordedFiles(b.recorder);
    const recA = CreateTaskRequest.decode(await readFile(fileA!));
    const recB = CreateTaskRequest.decode(await readFile(fileB!));
    const templateBytes = (r: CreateTaskRequest) => Buffer.from(TaskTemplate.encode(r.template!).finish());
    const inputBytes = (r: CreateTaskRequest) => Buffer.from(LiteralMap.encode(r.inputs!).finish());
    expect(templateBytes(recB).equals(templateBytes(recA))).toBe(true);
    expect(inputBytes(recB).equals(inputBytes(recA))).toBe(true);
    // Inputs carry no secrets: they are what the client sent, byte for byte.
    expect(inputBytes(recA).equals(Buffer.from(LiteralMap.encode(sent.inputs!).finish()))).toBe(true);
    // The recorded metadata (retry attempt, execution id, namespace) goes out again, not a new one.
    expect(recB.taskExecutionMetadata).toEqual(recA.taskExecutionMetadata);
    expect(recB.taskExecutionMetadata?.taskExecutionId?.retryAttempt).toBe(2);
    // Only the output prefix is a local one.
    expect(recA.outputPrefix).toBe("s3://bucket/out/0");
    expect(recB.outputPrefix).toBe(result.outputPrefix);
    expect(recB.outputPrefix).not.toBe(recA.outputPrefix);
    // The template is not rendered again: its args still name the cluster's paths.
    expect(b.job.seen[0]!.taskTemplate.container?.args).toEqual(sent.template!.container!.args);
  });

  it("redacts env values and secret-looking keys, keeping every key so the request replays", async () => {
    const a = await recordingServer();
    servers.push(a.server);
    const c = clients(a.server.address);
    await unary(c.async.createTask.bind(c.async), {
      inputs: jobTask.encodeInputs({ n: 1 }),
      template: propellerTemplate(jobTask.template()),
      outputPrefix: "s3://bucket/out/0",
      taskExecutionMetadata: metadata,
    });
    c.close();
    const [file] = await recordedFiles(a.recorder);
    const bytes = await readFile(file!);
    const rec = CreateTaskRequest.decode(bytes);
    expect(rec.taskExecutionMetadata?.environmentVariables).toEqual({
      PLAIN: REDACTED,
      DB_PASSWORD: REDACTED,
    });
    expect(rec.template?.container?.env).toEqual([{ key: "FOO", value: REDACTED }]);
    expect(rec.template?.config).toEqual({ region: "eu-west-1", AUTH_HEADER: REDACTED });
    expect(rec.template?.custom).toEqual({
      query: "select 1",
      password: REDACTED,
      nested: { region: "eu", accessToken: REDACTED, list: [{ api_key: REDACTED, keep: 1 }] },
    });
    expect(rec.template?.k8sPod?.podSpec).toEqual({
      containers: [{ name: "primary", env: [{ name: "GCP_KEY", value: REDACTED }, { name: "X" }] }],
    });
    expect(rec.taskExecutionMetadata?.labels).toEqual({ team: "data", "vault-token": REDACTED });
    for (const secret of ["hunter2", "abc", "p4ss", "Bearer xyz", "s.123", "bar", "pod-secret"]) {
      expect(bytes.includes(Buffer.from(secret))).toBe(false);
    }
    // Redaction works on a copy: the agent got the real values.
    expect(a.job.seen[0]!.taskExecutionMetadata?.environmentVariables.DB_PASSWORD).toBe("p4ss");
  });

  it("records an ExecuteTaskSync stream and replays it at a fresh server", async () => {
    const a = await recordingServer();
    servers.push(a.server);
    const c = clients(a.server.address);
    const messages: ExecuteTaskSyncRequest[] = [
      {
        header: {
          template: echoTask.template(),
          outputPrefix: "s3://bucket/out/0",
          taskExecutionMetadata: metadata,
          maxDatasetSizeBytes: 0n,
        },
      },
      { inputs: echoTask.encodeInputs({ text: "hi" }) },
    ];
    await executeSync(c.sync, messages);
    c.close();
    const [fileA] = await recordedFiles(a.recorder);
    expect(fileA).toMatch(/-do-echo-[0-9a-f]{8}\.pb$/);

    const request = await readRecordedRequest(fileA!);
    expect(request.op).toBe("do");
    const b = await recordingServer();
    servers.push(b.server);
    const result = await replayRequest({ request, endpoint: b.server.address, outputDir: newDir() });
    expect(result.succeeded).toBe(true);
    expect(result.outputs).toEqual({ text: "HI" });

    const [fileB] = await recordedFiles(b.recorder);
    const [headerA, inputsA] = decodeRecordedSyncRequests(await readFile(fileA!));
    const [headerB, inputsB] = decodeRecordedSyncRequests(await readFile(fileB!));
    const tpl = (m: ExecuteTaskSyncRequest | undefined) =>
      Buffer.from(TaskTemplate.encode(m!.header!.template!).finish());
    const lit = (m: ExecuteTaskSyncRequest | undefined) =>
      Buffer.from(LiteralMap.encode(m!.inputs!).finish());
    expect(tpl(headerB).equals(tpl(headerA))).toBe(true);
    expect(lit(inputsB).equals(lit(inputsA))).toBe(true);
    expect(headerB!.header!.taskExecutionMetadata).toEqual(headerA!.header!.taskExecutionMetadata);
  });

  it("replays to the output prefix given instead of a local one", async () => {
    const a = await recordingServer();
    servers.push(a.server);
    const c = clients(a.server.address);
    await unary(c.async.createTask.bind(c.async), {
      inputs: jobTask.encodeInputs({ n: 2 }),
      template: jobTask.template(),
      outputPrefix: "s3://bucket/out/0",
      taskExecutionMetadata: metadata,
    });
    c.close();
    const [file] = await recordedFiles(a.recorder);
    const b = await recordingServer();
    servers.push(b.server);
    const prefix = join(newDir(), "mine");
    const result = await replayRequest({
      request: await readRecordedRequest(file!),
      endpoint: b.server.address,
      outputPrefix: prefix,
    });
    expect(result.outputPrefix).toBe(prefix);
    expect(b.job.seen[0]!.outputPrefix).toBe(prefix);
  });
});

describe("what a record holds", () => {
  it("is the request's bytes as received: unknown fields kept, an agent's changes not seen", async () => {
    const a = await recordingServer();
    servers.push(a.server);
    // A template with nothing to redact.
    const plainJob = defineTask({
      name: "job",
      taskType: "job",
      inputs: { n: z.number().int() },
      outputs: { id: z.string() },
    });
    const encoded = CreateTaskRequest.encode({
      inputs: plainJob.encodeInputs({ n: 13 }),
      template: plainJob.template(),
      outputPrefix: "s3://bucket/out/0",
      taskExecutionMetadata: undefined,
    }).finish();
    // Field 99 (varint 1): a field a newer flyteidl might add, unknown to this one.
    const sent = Buffer.concat([encoded, Buffer.from([0x98, 0x06, 0x01])]);
    const client = new Client(a.server.address, credentials.createInsecure());
    await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(
        "/flyteidl.service.AsyncAgentService/CreateTask",
        (b: Buffer) => b,
        (b: Buffer) => b,
        sent,
        (err, res) => (err || !res ? reject(err ?? new Error("no answer")) : resolve(res)),
      ),
    );
    client.close();
    expect(a.job.seen[0]!.taskTemplate.type).toBe("changed by the agent");
    const [file] = await recordedFiles(a.recorder);
    const got = await readFile(file!);
    expect(got.equals(sent)).toBe(true);
    expect(file).toMatch(/-create-job-/);
  });
});

describe("RequestRecorder bounds and failures", () => {
  const request = (n: number): CreateTaskRequest => ({
    inputs: jobTask.encodeInputs({ n }),
    template: jobTask.template(),
    outputPrefix: `s3://bucket/out/${n}`,
    taskExecutionMetadata: undefined,
  });
  const prefixes = async (recorder: RequestRecorder) =>
    Promise.all(
      (await recordedFiles(recorder)).map(
        async (f) => CreateTaskRequest.decode(await readFile(f)).outputPrefix,
      ),
    );

  it("keeps the newest max-files records and deletes the oldest", async () => {
    let now = Date.UTC(2026, 0, 1);
    const recorder = await RequestRecorder.create({ dir: newDir(), maxFiles: 3, now: () => (now += 1000) });
    for (let n = 1; n <= 5; n++) recorder.recordCreateTask(request(n));
    expect(await prefixes(recorder)).toEqual(["s3://bucket/out/3", "s3://bucket/out/4", "s3://bucket/out/5"]);
    expect(recorder.counts).toEqual({ written: 5, dropped: 0 });
  });

  it("keeps the records within max-bytes, counting those already in the directory", async () => {
    const dir = newDir();
    let now = Date.UTC(2026, 0, 1);
    const clock = () => (now += 1000);
    const size = CreateTaskRequest.encode(request(1)).finish().length;
    const first = await RequestRecorder.create({ dir, now: clock });
    first.recordCreateTask(request(1));
    first.recordCreateTask(request(2));
    await first.flushed();
    // A restarted server: the two earlier records count toward the limit of 2.5 records.
    const second = await RequestRecorder.create({ dir, maxBytes: Math.floor(size * 2.5), now: clock });
    second.recordCreateTask(request(3));
    expect(await prefixes(second)).toEqual(["s3://bucket/out/2", "s3://bucket/out/3"]);
  });

  it("drops requests beyond the queue bound with a warning instead of queueing them", async () => {
    const logger = memoryLogger();
    const recorder = await RequestRecorder.create({ dir: newDir(), maxQueued: 2, logger });
    for (let n = 1; n <= 4; n++) recorder.recordCreateTask(request(n));
    expect(await prefixes(recorder)).toEqual(["s3://bucket/out/1", "s3://bucket/out/2"]);
    expect(recorder.counts).toEqual({ written: 2, dropped: 2 });
    expect(logger.lines.filter((l) => l.level === "warn")).toHaveLength(2);
  });

  it("serves calls normally when the record directory stops being writable", async () => {
    const logger = memoryLogger();
    const a = await recordingServer({ logger });
    servers.push(a.server);
    // Replaced by a file: every write fails, whoever the test runs as (root ignores permissions).
    await rm(a.recorder.dir, { recursive: true });
    await writeFile(a.recorder.dir, "not a directory");
    const c = clients(a.server.address);
    const created = await unary(c.async.createTask.bind(c.async), request(9));
    const answers = await executeSync(c.sync, [
      {
        header: {
          template: echoTask.template(),
          outputPrefix: "",
          taskExecutionMetadata: undefined,
          maxDatasetSizeBytes: 0n,
        },
      },
      { inputs: echoTask.encodeInputs({ text: "ok" }) },
    ]);
    c.close();
    expect(created.resourceMeta.toString()).toContain("job-9");
    expect(answers[0]?.header?.resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
    await a.recorder.flushed();
    expect(a.recorder.counts).toEqual({ written: 0, dropped: 2 });
    const warnings = logger.lines.filter(
      (l) => l.level === "warn" && String(l.msg).startsWith("request not recorded"),
    );
    expect(warnings).toHaveLength(2);
    expect(warnings[0]?.reason).toBe("ENOTDIR");
  });
});

describe("bad input", () => {
  it("refuses a record directory that cannot be written, in one sentence", async () => {
    const file = join(base, "a-file");
    await writeFile(file, "");
    const err = await RequestRecorder.create({ dir: join(file, "records") }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "INVALID_CONFIG" });
    expect((err as Error).message).toMatch(
      /^cannot write request records to .*a-file\/records \(ENOTDIR\): choose a writable --record directory$/,
    );
  });

  it("refuses to replay a file that is not a recorded request", async () => {
    const dir = newDir();
    await rm(dir, { recursive: true, force: true });
    const { mkdir } = await import("node:fs/promises");
    await mkdir(dir);
    const garbage = join(dir, "garbage.pb");
    await writeFile(garbage, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    const empty = join(dir, "20260101T000000000Z-create-job-00000000.pb");
    await writeFile(empty, "");
    const json = join(dir, "task.json");
    await writeFile(json, '{"template": {"type": "job"}}');
    for (const file of [garbage, empty, json, join(dir, "missing.pb")]) {
      const err = await readRecordedRequest(file).catch((e: unknown) => e);
      expect(err, file).toMatchObject({ code: "INVALID_CONFIG" });
      expect((err as Error).message).not.toContain("\n");
    }
    const err = (await readRecordedRequest(empty).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(
      /is not a request recorded by `flyte-agent serve --record` \(it holds no task template\)$/,
    );
  });
});
