import { credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  AgentMetadataServiceClient,
  AsyncAgentServiceClient,
  SyncAgentServiceClient,
} from "../../packages/runtime/src/gen/flyteidl/service/agent.js";
import type {
  CreateTaskResponse,
  ExecuteTaskSyncResponse,
  GetTaskResponse,
  ListAgentsResponse,
} from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";
import {
  AsyncAgentBase,
  SyncAgentBase,
  AgentRegistry,
  TaskExecutionPhase,
  type Resource,
} from "../../packages/runtime/src/index.js";
import { AgentServer } from "../../packages/runtime/src/server/index.js";
import { defineTask } from "../../packages/runtime/src/task/index.js";

const Meta = z.object({ job_id: z.string() });

class JobAgent extends AsyncAgentBase<typeof Meta> {
  constructor() {
    super({ taskTypeName: "job", metadataSchema: Meta });
  }
  async create({ inputs }: { inputs: Record<string, unknown> }) {
    return { job_id: `job-${String(inputs.n)}` };
  }
  async get(meta: z.output<typeof Meta>): Promise<Resource> {
    if (meta.job_id === "job-boom") throw new Error("backend exploded\nwith a second line");
    return { phase: TaskExecutionPhase.SUCCEEDED, outputs: { id: meta.job_id, n: 3 } };
  }
  async delete() {}
}

class EchoAgent extends SyncAgentBase {
  constructor() {
    super({ taskTypeName: "echo" });
  }
  async do({ inputs }: { inputs: Record<string, unknown> }): Promise<Resource> {
    return { phase: TaskExecutionPhase.SUCCEEDED, outputs: { text: String(inputs.text).toUpperCase() } };
  }
}

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

const unary = <Req, Res>(
  fn: (req: Req, md: Metadata, cb: (e: ServiceError | null, r: Res) => void) => unknown,
  req: Req,
) => new Promise<Res>((resolve, reject) => fn(req, new Metadata(), (e, r) => (e ? reject(e) : resolve(r))));

describe("AgentServer over a real socket", () => {
  let server: AgentServer;
  let asyncClient: AsyncAgentServiceClient;
  let syncClient: SyncAgentServiceClient;
  let metaClient: AgentMetadataServiceClient;

  beforeAll(async () => {
    const registry = new AgentRegistry();
    registry.register(new JobAgent());
    registry.register(new EchoAgent());
    server = await AgentServer.start({ registry, host: "127.0.0.1", port: 0 });
    asyncClient = new AsyncAgentServiceClient(server.address, credentials.createInsecure());
    syncClient = new SyncAgentServiceClient(server.address, credentials.createInsecure());
    metaClient = new AgentMetadataServiceClient(server.address, credentials.createInsecure());
  });
  afterAll(async () => {
    asyncClient.close();
    syncClient.close();
    metaClient.close();
    await server.shutdown(1000);
  });

  it("creates and gets a task with Python-compatible resource meta and typed outputs", async () => {
    const created: CreateTaskResponse = await unary(asyncClient.createTask.bind(asyncClient), {
      inputs: jobTask.encodeInputs({ n: 5 }),
      template: jobTask.template(),
      outputPrefix: "/tmp/out",
      taskExecutionMetadata: undefined,
    });
    expect(created.resourceMeta.toString()).toBe('{"job_id": "job-5"}');
    const got: GetTaskResponse = await unary(asyncClient.getTask.bind(asyncClient), {
      taskType: "",
      resourceMeta: created.resourceMeta,
      taskCategory: { name: "job", version: 0 },
      outputPrefix: "/tmp/out",
    });
    expect(got.resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
    expect(jobTask.decodeOutputs(got.resource!.outputs)).toEqual({ id: "job-5", n: 3 });
  });

  it("falls back to the deprecated task_type at version 0", async () => {
    const got: GetTaskResponse = await unary(asyncClient.getTask.bind(asyncClient), {
      taskType: "job",
      resourceMeta: Buffer.from('{"job_id": "x"}'),
      taskCategory: undefined,
      outputPrefix: "",
    });
    expect(got.resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
  });

  it("maps an unknown category to NOT_FOUND listing what is served", async () => {
    const err = await unary(asyncClient.getTask.bind(asyncClient), {
      taskType: "",
      resourceMeta: Buffer.from("{}"),
      taskCategory: { name: "bigquery", version: 0 },
      outputPrefix: "",
    }).catch((e: ServiceError) => e);
    expect((err as ServiceError).code).toBe(status.NOT_FOUND);
    expect((err as ServiceError).details).toBe(
      "Cannot find connector for task category: bigquery_v0. Available: [echo_v0, job_v0]",
    );
  });

  it("maps undecodable resource meta to INVALID_ARGUMENT and agent exceptions to a one-line INTERNAL", async () => {
    const bad = await unary(asyncClient.getTask.bind(asyncClient), {
      taskType: "job",
      resourceMeta: Buffer.from("{not json"),
      taskCategory: undefined,
      outputPrefix: "",
    }).catch((e: ServiceError) => e);
    expect((bad as ServiceError).code).toBe(status.INVALID_ARGUMENT);
    const boom = await unary(asyncClient.getTask.bind(asyncClient), {
      taskType: "job",
      resourceMeta: Buffer.from('{"job_id": "job-boom"}'),
      taskCategory: undefined,
      outputPrefix: "",
    }).catch((e: ServiceError) => e);
    expect((boom as ServiceError).code).toBe(status.INTERNAL);
    expect((boom as ServiceError).details).toBe("failed to get job task with error: backend exploded");
  });

  it("answers ExecuteTaskSync with one message whose header carries the resource", async () => {
    const call = syncClient.executeTaskSync();
    const responses: ExecuteTaskSyncResponse[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on("data", (r: ExecuteTaskSyncResponse) => responses.push(r));
      call.on("end", resolve);
      call.on("error", reject);
    });
    call.write({
      header: {
        template: echoTask.template(),
        outputPrefix: "/tmp/o",
        taskExecutionMetadata: undefined,
        maxDatasetSizeBytes: 0n,
      },
    });
    call.write({ inputs: echoTask.encodeInputs({ text: "hi" }) });
    call.end();
    await done;
    expect(responses).toHaveLength(1);
    expect(echoTask.decodeOutputs(responses[0]!.header!.resource!.outputs)).toEqual({ text: "HI" });
  });

  it("lists agents with categories and is_sync", async () => {
    const res: ListAgentsResponse = await unary(metaClient.listAgents.bind(metaClient), {});
    expect(res.agents).toEqual([
      {
        name: "JobAgent",
        isSync: false,
        supportedTaskTypes: ["job"],
        supportedTaskCategories: [{ name: "job", version: 0 }],
      },
      {
        name: "EchoAgent",
        isSync: true,
        supportedTaskTypes: ["echo"],
        supportedTaskCategories: [{ name: "echo", version: 0 }],
      },
    ]);
  });
});
