import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectorClient, RpcError } from "../../src/client/index.js";
import { GetTaskResponse } from "../../packages/runtime/src/gen/v2/flyteidl2/connector/connector.js";
import { TaskExecution_Phase } from "../../packages/runtime/src/gen/v2/flyteidl2/core/execution.js";
import {
  connectorFor,
  type RawConnectorServer,
  startRawConnectorServer,
} from "../propeller/raw-connector-server.js";

const connection = { taskType: "t", secrets: { token: "s3cret" }, configs: { region: "eu" } };

describe("ConnectorClient", () => {
  let server: RawConnectorServer;
  let client: ConnectorClient;
  beforeAll(async () => {
    server = await startRawConnectorServer({
      connectors: [connectorFor("c", "t")],
      get: () => ({
        outputs: undefined,
        message: "x".repeat(1000),
        logLinks: [],
        phase: TaskExecution_Phase.RUNNING,
        customInfo: undefined,
      }),
      logs: () => ({
        messages: [
          { header: { token: "next" } },
          { body: { results: [], lines: [{ timestamp: undefined, message: "line 1", originator: 0 }] } },
        ],
        error: { error: 13, details: "log store gone" },
      }),
    });
    client = new ConnectorClient(server.address);
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it("lists connectors over flyteidl2.connector.ConnectorMetadataService", async () => {
    const answer = await client.listConnectors();
    expect(answer.value.connectors).toEqual([connectorFor("c", "t")]);
    expect((await client.getConnector("c")).value.connector?.name).toBe("c");
    await expect(client.getConnector("nope")).rejects.toMatchObject({ codeName: "NOT_FOUND" });
  });

  it("sends the connection with CreateTask and reports each answer's size as it came on the wire", async () => {
    const created = await client.createTask({
      inputs: { literals: [], context: [] },
      template: {
        id: undefined,
        type: "t",
        metadata: undefined,
        interface: undefined,
        custom: undefined,
        container: undefined,
        k8sPod: undefined,
        sql: undefined,
        taskTypeVersion: 0,
        securityContext: undefined,
        extendedResources: undefined,
        config: {},
      },
      outputPrefix: "/tmp/out",
      taskExecutionMetadata: undefined,
      connection,
    });
    expect(created.value.resourceMeta.toString()).toBe("job-1");
    const sent = server.calls.find((c) => c.op === "CreateTask")?.request as { connection: unknown };
    expect(sent.connection).toEqual(connection);
    const got = await client.getTask({
      resourceMeta: created.value.resourceMeta,
      taskCategory: { name: "t", version: 0 },
      outputPrefix: "/tmp/out",
      connection,
    });
    expect(got.bytes).toBe(GetTaskResponse.encode(got.value).finish().length);
    expect(got.bytes).toBeGreaterThan(1000);
  });

  it("streams GetTaskLogs message by message and ends with the stream's status", async () => {
    const seen: string[] = [];
    let error: unknown;
    try {
      for await (const m of client.getTaskLogs({
        resourceMeta: Buffer.from("job-1"),
        lines: 10n,
        token: "",
        taskCategory: { name: "t", version: 0 },
      })) {
        seen.push(
          m.value.header ? `header:${m.value.header.token}` : `body:${m.value.body?.lines[0]?.message}`,
        );
      }
    } catch (err) {
      error = err;
    }
    expect(seen).toEqual(["header:next", "body:line 1"]);
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).codeName).toBe("INTERNAL");
    expect((error as RpcError).details).toBe("log store gone");
  });

  it("turns an unreachable endpoint into an RpcError with the gRPC status", async () => {
    const dead = new ConnectorClient("127.0.0.1:1");
    const err = await dead.listConnectors({ deadlineMs: 2_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(["UNAVAILABLE", "DEADLINE_EXCEEDED"]).toContain((err as RpcError).codeName);
    dead.close();
  });
});
