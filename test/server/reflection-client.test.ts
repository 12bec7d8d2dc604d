/**
 * gRPC reflection as real clients use it (grpcurl, Postman): an independent Python client that knows
 * no flyteidl protos asks file_containing_symbol for each service, then file_by_filename for every
 * dependency, builds a descriptor pool in dependency order (Python's protobuf refuses a file whose
 * dependencies are missing), and describes and calls every agent service method.
 */
import { execFileSync } from "node:child_process";
import { execa } from "execa";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentRegistry,
  AsyncAgentBase,
  SyncAgentBase,
  TaskExecutionPhase,
  type Resource,
} from "../../packages/runtime/src/index.js";
import { AgentServer } from "../../packages/runtime/src/server/index.js";
import { z } from "zod";
import { python, pythonSkipReason } from "../python/python-protos.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const reflectionProtos = path.resolve(here, "../../node_modules/@grpc/reflection/build/proto");

class EchoAsync extends AsyncAgentBase<z.ZodObject<{ id: z.ZodString }>> {
  constructor() {
    super({ taskTypeName: "echo_async", metadataSchema: z.object({ id: z.string() }) });
  }
  async create() {
    return { id: "1" };
  }
  async get(): Promise<Resource> {
    return { phase: TaskExecutionPhase.SUCCEEDED };
  }
  async delete() {}
}
class EchoSync extends SyncAgentBase {
  constructor() {
    super({ taskTypeName: "echo_sync" });
  }
  async do(): Promise<Resource> {
    return { phase: TaskExecutionPhase.SUCCEEDED };
  }
}

interface Report {
  services: string[];
  files: string[];
  methods: { method: string; input: string; output: string; code: string; answers?: unknown[] }[];
}

describe.skipIf(pythonSkipReason !== undefined)("reflection for a client that knows no protos", () => {
  let server: AgentServer;
  let generated = "";
  let report: Report;

  beforeAll(async () => {
    const registry = new AgentRegistry();
    registry.register(new EchoAsync());
    registry.register(new EchoSync());
    server = await AgentServer.start({
      registry,
      host: "127.0.0.1",
      port: 0,
      reflection: true,
      health: true,
    });
    generated = mkdtempSync(path.join(tmpdir(), "flyte-agent-reflection-"));
    execFileSync("protoc", [
      `-I${reflectionProtos}`,
      `--python_out=${generated}`,
      "grpc/reflection/v1/reflection.proto",
    ]);
    // Asynchronously: the server answering it runs in this process.
    const r = await execa(
      python!,
      [path.join(here, "../python/reflection_client.py"), generated, `127.0.0.1:${server.port}`],
      { timeout: 60_000 },
    );
    report = JSON.parse(r.stdout) as Report;
  }, 90_000);
  afterAll(async () => {
    await server?.shutdown(100);
    if (generated) rmSync(generated, { recursive: true, force: true });
  });

  it("answers with the real proto files, each after its dependencies", () => {
    expect(report.files).toContain("flyteidl/service/agent.proto");
    expect(report.files).toContain("flyteidl/admin/agent.proto");
    expect(report.files).toContain("flyteidl/core/literals.proto");
    expect(report.files).toContain("google/protobuf/timestamp.proto");
    expect(report.files.indexOf("flyteidl/core/literals.proto")).toBeLessThan(
      report.files.indexOf("flyteidl/admin/agent.proto"),
    );
    expect(report.files.some((f) => /^flyteidl_/.test(f))).toBe(false);
  });

  it("answers Flyte 2's files as protoc wrote them, each after its dependencies", () => {
    for (const file of [
      "flyteidl2/connector/service.proto",
      "flyteidl2/connector/connector.proto",
      "flyteidl2/core/security.proto",
      "flyteidl2/task/common.proto",
    ])
      expect(report.files).toContain(file);
    expect(report.files.indexOf("flyteidl2/connector/connector.proto")).toBeLessThan(
      report.files.indexOf("flyteidl2/connector/service.proto"),
    );
    expect(report.services).toEqual(
      expect.arrayContaining([
        "flyteidl2.connector.AsyncConnectorService",
        "flyteidl2.connector.ConnectorMetadataService",
      ]),
    );
  });

  it("describes every agent service method with its message types", () => {
    const described = report.methods.map((m) => m.method);
    for (const method of [
      "flyteidl.service.AsyncAgentService.CreateTask",
      "flyteidl.service.AsyncAgentService.GetTask",
      "flyteidl.service.AsyncAgentService.DeleteTask",
      "flyteidl.service.AsyncAgentService.GetTaskMetrics",
      "flyteidl.service.AsyncAgentService.GetTaskLogs",
      "flyteidl.service.SyncAgentService.ExecuteTaskSync",
      "flyteidl.service.AgentMetadataService.GetAgent",
      "flyteidl.service.AgentMetadataService.ListAgents",
      "flyteidl2.connector.AsyncConnectorService.CreateTask",
      "flyteidl2.connector.AsyncConnectorService.GetTask",
      "flyteidl2.connector.AsyncConnectorService.DeleteTask",
      "flyteidl2.connector.AsyncConnectorService.GetTaskMetrics",
      "flyteidl2.connector.AsyncConnectorService.GetTaskLogs",
      "flyteidl2.connector.ConnectorMetadataService.ListConnectors",
      "flyteidl2.connector.ConnectorMetadataService.GetConnector",
      "grpc.health.v1.Health.Check",
    ])
      expect(described).toContain(method);
    expect(report.methods.find((m) => m.method.endsWith("AgentService.CreateTask"))).toMatchObject({
      input: "flyteidl.admin.CreateTaskRequest",
      output: "flyteidl.admin.CreateTaskResponse",
    });
    expect(report.methods.find((m) => m.method.endsWith("ConnectorService.CreateTask"))).toMatchObject({
      input: "flyteidl2.connector.CreateTaskRequest",
      output: "flyteidl2.connector.CreateTaskResponse",
    });
  });

  it("calls every method with messages built from the pool: the server answers each (never UNIMPLEMENTED)", () => {
    for (const m of report.methods) expect(m.code, m.method).not.toBe("UNIMPLEMENTED");
    const list = report.methods.find((m) => m.method.endsWith(".ListAgents"))!;
    expect(list.code).toBe("OK");
    const names = JSON.stringify(list.answers);
    expect(names).toContain("echo_async");
    expect(names).toContain("echo_sync");
    const connectors = report.methods.find((m) => m.method.endsWith(".ListConnectors"))!;
    expect(connectors.code).toBe("OK");
    expect(JSON.stringify(connectors.answers)).toContain("echo_sync");
  });
});
