import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { credentials } from "@grpc/grpc-js";
import { AgentRegistry, TaskExecutionPhase, isSensorEngine } from "flyte-agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  CreateTaskResponse,
  GetTaskRequest,
  GetTaskResponse,
} from "../../../src/gen/flyteidl/admin/agent.js";
import { AsyncAgentServiceClient } from "../../../src/gen/flyteidl/service/agent.js";
import { AgentServer } from "../../../src/server/index.js";
import { unary } from "../../../test/examples/grpc.js";
import { waitForFile } from "../task.js";

describe("the file-sensor example", () => {
  let dir: string;
  let server: AgentServer;
  let client: AsyncAgentServiceClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "file-sensor-example-"));
    // What `flyte-agent run` / `serve --modules` do: serve the process-wide registry the module filled.
    server = await AgentServer.start({ registry: AgentRegistry.default, host: "127.0.0.1", port: 0 });
    client = new AsyncAgentServiceClient(server.address, credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    await server.shutdown(1000);
    await rm(dir, { recursive: true, force: true });
  });

  it("registers the sensor engine, and only it, when loaded", () => {
    expect(isSensorEngine(AgentRegistry.default.getAgent("sensor"))).toBe(true);
    expect(AgentRegistry.default.listAgents().map((a) => a.name)).toEqual(["Sensor"]);
  });

  it("defines a sensor task with a path input and a timeout", () => {
    const template = waitForFile.template();
    expect(template.type).toBe("sensor");
    expect(template.custom).toEqual({
      sensor_module: "flytekit.sensor.file_sensor",
      sensor_name: "FileSensor",
      sensor_config: null,
    });
    expect(Object.keys(template.interface?.inputs?.variables ?? {})).toEqual(["path"]);
    expect(template.metadata?.timeout?.seconds).toBe(600n);
  });

  it("keeps running until the file appears, then succeeds", async () => {
    const uri = pathToFileURL(join(dir, "ready.txt")).href;
    const created: CreateTaskResponse = await unary(client.createTask.bind(client), {
      template: waitForFile.template(),
      inputs: waitForFile.encodeInputs({ path: uri }),
      outputPrefix: dir,
      taskExecutionMetadata: undefined,
    });
    const get = () =>
      unary<GetTaskRequest, GetTaskResponse>(client.getTask.bind(client), {
        taskType: "sensor",
        taskCategory: { name: "sensor", version: 0 },
        resourceMeta: created.resourceMeta,
        outputPrefix: dir,
      });
    expect((await get()).resource?.phase).toBe(TaskExecutionPhase.RUNNING);
    expect((await get()).resource?.phase).toBe(TaskExecutionPhase.RUNNING);
    await writeFile(join(dir, "ready.txt"), "go");
    expect((await get()).resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
  });
});
