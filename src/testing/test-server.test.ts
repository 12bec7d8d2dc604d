import { credentials } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { AsyncAgentBase } from "@flyte-agent/runtime/internal/core/agent.js";
import type { TaskRequest } from "@flyte-agent/runtime/internal/core/context.js";
import { TaskExecutionPhase } from "@flyte-agent/runtime/internal/core/phase.js";
import { AgentRegistry } from "@flyte-agent/runtime/internal/core/registry.js";
import type { Resource } from "@flyte-agent/runtime/internal/core/resource.js";
import {
  CreateTaskRequest,
  GetTaskRequest,
  type GetTaskResponse,
} from "@flyte-agent/runtime/internal/gen/flyteidl/admin/agent.js";
import { AsyncAgentServiceClient } from "@flyte-agent/runtime/internal/gen/flyteidl/service/agent.js";
import { defineTask } from "@flyte-agent/runtime/internal/task/define-task.js";
import { startTestServer, type TestServer } from "./test-server.js";

const greet = defineTask({
  name: "tests.greet",
  taskType: "greeter",
  inputs: { name: z.string() },
  outputs: { greeting: z.string() },
});

const Meta = z.object({ name: z.string() });
class GreeterAgent extends AsyncAgentBase<typeof Meta> {
  constructor() {
    super({ taskTypeName: "greeter", metadataSchema: Meta, outputs: greet.outputs });
  }
  async create({ inputs }: TaskRequest) {
    return { name: String(inputs.name) };
  }
  async get(meta: z.output<typeof Meta>): Promise<Resource> {
    return { phase: TaskExecutionPhase.SUCCEEDED, outputs: { greeting: `hello ${meta.name}` } };
  }
  async delete() {}
}

describe("startTestServer", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("serves the given agents over a real loopback socket", async () => {
    server = await startTestServer({ agents: [new GreeterAgent()] });
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);

    const client = new AsyncAgentServiceClient(server.address, credentials.createInsecure());
    try {
      const created = await new Promise<Buffer>((resolve, reject) =>
        client.createTask(
          CreateTaskRequest.fromPartial({
            template: greet.template(),
            inputs: greet.encodeInputs({ name: "ada" }),
          }),
          (err, res) => (err ? reject(err) : resolve(res.resourceMeta)),
        ),
      );
      const got = await new Promise<GetTaskResponse>((resolve, reject) =>
        client.getTask(
          GetTaskRequest.fromPartial({
            resourceMeta: created,
            taskCategory: { name: "greeter", version: 0 },
          }),
          (err, res) => (err ? reject(err) : resolve(res)),
        ),
      );
      expect(greet.decodeOutputs(got.resource?.outputs)).toEqual({ greeting: "hello ada" });
    } finally {
      client.close();
    }
  });

  it("leaves the process-wide registry alone", async () => {
    server = await startTestServer({ agents: [new GreeterAgent()] });
    expect(server.registry.has("greeter")).toBe(true);
    expect(server.registry).not.toBe(AgentRegistry.default);
  });
});
