import { writeFile, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type {
  CreateTaskResponse,
  GetTaskResponse,
  ListAgentsResponse,
} from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";
import {
  AgentMetadataServiceClient,
  AsyncAgentServiceClient,
  SyncAgentServiceClient,
} from "../../packages/runtime/src/gen/flyteidl/service/agent.js";
import {
  AgentRegistry,
  FileSensor,
  TaskExecutionPhase,
  defineSensorTask,
  defineWebhookTask,
  registerBuiltinAgents,
} from "../../packages/runtime/src/index.js";
import { AgentServer } from "../../packages/runtime/src/server/index.js";
import { executeSync, unary } from "./grpc.js";

describe("built-in agents served by the real server", () => {
  let dir: string;
  let http: Server;
  let httpBase: string;
  let server: AgentServer;
  let asyncClient: AsyncAgentServiceClient;
  let syncClient: SyncAgentServiceClient;
  let metaClient: AgentMetadataServiceClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "builtin-server-"));
    http = createServer((req, res) => {
      if (req.url === "/teapot") res.writeHead(418).end("short and stout");
      else res.writeHead(200).end(`pong ${req.url}`);
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    httpBase = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const registry = new AgentRegistry();
    registerBuiltinAgents(registry, ["sensor", "webhook"]);
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
    await new Promise((r) => http.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it("lists exactly the built-ins it was given", async () => {
    const list: ListAgentsResponse = await unary(metaClient.listAgents.bind(metaClient), {});
    expect(list.agents.map((a) => [a.name, a.isSync, a.supportedTaskCategories.map((c) => c.name)])).toEqual([
      ["Sensor", false, ["sensor"]],
      ["Webhook", true, ["webhook"]],
    ]);
  });

  it("runs a file sensor task through CreateTask and GetTask until the file appears", async () => {
    const path = join(dir, "ready.flag");
    const task = defineSensorTask({ name: "wait_for_flag", sensor: FileSensor, timeout: "1h" });
    const created: CreateTaskResponse = await unary(asyncClient.createTask.bind(asyncClient), {
      inputs: task.encodeInputs({ path }),
      template: task.template(),
      outputPrefix: dir,
      taskExecutionMetadata: undefined,
    });
    // flytekit's SensorMetadata keys only, so a flytekit replica can take the task over.
    expect(JSON.parse(created.resourceMeta.toString())).toEqual({
      sensor_module: "flytekit.sensor.file_sensor",
      sensor_name: "FileSensor",
      sensor_config: null,
      inputs: { path },
    });
    const get = () =>
      unary<unknown, GetTaskResponse>(asyncClient.getTask.bind(asyncClient) as never, {
        taskType: "sensor",
        resourceMeta: created.resourceMeta,
        taskCategory: { name: "sensor", version: 0 },
        outputPrefix: dir,
      });
    expect((await get()).resource?.phase).toBe(TaskExecutionPhase.RUNNING);
    await writeFile(path, "");
    expect((await get()).resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
    await unary(asyncClient.deleteTask.bind(asyncClient), {
      taskType: "sensor",
      taskCategory: { name: "sensor", version: 0 },
      resourceMeta: created.resourceMeta,
    });
  });

  it("runs a webhook task through ExecuteTaskSync, with FAILED and HTTP_<status> on a non-2xx answer", async () => {
    const ok = defineWebhookTask({
      name: "ping",
      url: `${httpBase}/ping/{{inputs.who}}`,
      method: "GET",
      inputs: { who: z.string() },
    });
    const answer = await executeSync(
      syncClient,
      { template: ok.template(), outputPrefix: dir, taskExecutionMetadata: undefined },
      ok.encodeInputs({ who: "me" }),
    );
    const resource = answer.header?.resource;
    expect(resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
    expect(ok.decodeOutputs(resource?.outputs)).toEqual({ status: 200, body: "pong /ping/me" });

    const teapot = defineWebhookTask({ name: "teapot", url: `${httpBase}/teapot`, method: "GET" });
    const failed = await executeSync(
      syncClient,
      { template: teapot.template(), outputPrefix: dir, taskExecutionMetadata: undefined },
      teapot.encodeInputs({}),
    );
    expect(failed.header?.resource?.phase).toBe(TaskExecutionPhase.FAILED);
    expect(failed.header?.resource?.agentError?.code).toBe("HTTP_418");
    expect(failed.header?.resource?.message).toContain("418 I'm a Teapot: short and stout");
  });
});
