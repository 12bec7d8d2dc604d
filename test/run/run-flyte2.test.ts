// `run --flyte 2` in-process: the executor follows Flyte 2's connector rules against the real server,
// which answers flyteidl2.connector from the same agents as Flyte 1. The CLI smoke is in run-cli.test.ts.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { executeTask, type ExecuteTaskOptions } from "../../src/executor/index.js";
import {
  AgentRegistry,
  AsyncAgentBase,
  SyncAgentBase,
  TaskExecutionPhase,
  type AgentContext,
  type Resource,
  type TaskRequest,
} from "../../packages/runtime/src/index.js";
import { AgentServer } from "../../packages/runtime/src/server/index.js";
import { defineTask } from "../../packages/runtime/src/task/index.js";

const Meta = z.object({ n: z.number() });

/** Reports which connection reached it; the secret only as a yes/no. */
class VaultAgent extends AsyncAgentBase<typeof Meta> {
  readonly seen: string[] = [];
  constructor() {
    super({ taskTypeName: "f2_vault", metadataSchema: Meta });
  }
  async create(request: TaskRequest) {
    this.seen.push(`create:${request.connection?.secrets.token === "t0ken" ? "secret" : "none"}`);
    return { n: request.inputs.n as number };
  }
  async get(meta: z.output<typeof Meta>, context: AgentContext): Promise<Resource> {
    this.seen.push(`get:${context.connection?.configs.region ?? ""}`);
    return { phase: TaskExecutionPhase.SUCCEEDED, outputs: { doubled: meta.n * 2 } };
  }
  async delete() {}
}

class ShoutAgent extends SyncAgentBase {
  constructor() {
    super({ taskTypeName: "f2_shout" });
  }
  async do({ inputs }: TaskRequest): Promise<Resource> {
    return { phase: TaskExecutionPhase.SUCCEEDED, outputs: { text: String(inputs.text).toUpperCase() } };
  }
}

const vaultTask = defineTask({
  name: "f2.vault",
  taskType: "f2_vault",
  inputs: { n: z.int() },
  outputs: { doubled: z.int() },
  config: { secrets: { token: "f2_vault_token" }, configs: { region: "eu" } },
});
const shoutTask = defineTask({
  name: "f2.shout",
  taskType: "f2_shout",
  inputs: { text: z.string() },
  outputs: { text: z.string() },
  config: {},
});

let server: AgentServer;
const vault = new VaultAgent();
beforeAll(async () => {
  const registry = new AgentRegistry();
  registry.register(vault);
  registry.register(new ShoutAgent());
  server = await AgentServer.start({ registry, host: "127.0.0.1", port: 0 });
});
afterAll(async () => {
  await server.shutdown(500);
});

const options = (extra: Partial<ExecuteTaskOptions>): ExecuteTaskOptions =>
  ({
    endpoint: server.address,
    flyte: 2,
    pollIntervalMs: 0,
    maxPollIntervalMs: 0,
    outputDir: mkdtempSync(join(tmpdir(), "run-flyte2-")),
    ...extra,
  }) as ExecuteTaskOptions;

describe("run --flyte 2 against the real server", () => {
  it("resolves the connection's secret locally as agents read secrets (env _FSEC_<NAME>) and the agent gets it", async () => {
    process.env._FSEC_F2_VAULT_TOKEN = "t0ken";
    try {
      const result = await executeTask(options({ task: vaultTask, inputs: { n: 21 } }));
      expect(result).toMatchObject({ succeeded: true, outputs: { doubled: 42 } });
    } finally {
      delete process.env._FSEC_F2_VAULT_TOKEN;
    }
    expect(vault.seen.slice(-2)).toEqual(["create:secret", "get:eu"]);
  });

  it("fails the create, retryably, when a secret of the connection is nowhere", async () => {
    const result = await executeTask(options({ task: vaultTask, inputs: { n: 1 }, retries: 0 }));
    expect(result.phase).toBe("RETRYABLE_FAILED");
    expect(result.message).toMatch(
      /^rpc error: code = Internal desc = Failed to get secret value with error: secret "f2_vault_token" not found/,
    );
  });

  it("runs a sync agent through Flyte 2's async services", async () => {
    const result = await executeTask(options({ task: shoutTask, inputs: { text: "hi" } }));
    expect(result).toMatchObject({ succeeded: true, outputs: { text: "HI" } });
  });

  it("runs through flyte-agent/testing's runThroughExecutor with flyte: 2", async () => {
    const { runThroughExecutor } = await import("../../src/testing/index.js");
    const result = await runThroughExecutor(
      shoutTask,
      { text: "ok" },
      { agents: [new ShoutAgent()], flyte: 2 },
    );
    expect(result).toMatchObject({ succeeded: true, outputs: { text: "OK" } });
  });

  it("shares one Flyte 2 executor session between runs, and refuses a Flyte 1 run on it", async () => {
    const { ExecutorSession } = await import("../../src/executor/index.js");
    const ops: string[] = [];
    const session = await ExecutorSession.create({
      endpoint: server.address,
      flyte: 2,
      onRpc: (r) => ops.push(r.op),
    });
    try {
      const runs = await Promise.all(
        ["a", "b"].map((text) =>
          executeTask({
            task: shoutTask,
            inputs: { text },
            session,
            pollIntervalMs: 0,
            maxPollIntervalMs: 0,
          }),
        ),
      );
      expect(runs.map((r) => r.outputs)).toEqual([{ text: "A" }, { text: "B" }]);
      // Flyte 1 would call the sync agent through ExecuteTaskSync; Flyte 2 has only the async calls.
      expect([...new Set(ops)].sort()).toEqual(["CreateTask", "GetTask", "ListAgents"]);
      await expect(
        executeTask({ task: shoutTask, inputs: { text: "c" }, session, flyte: 1 }),
      ).rejects.toThrow("the executor session follows Flyte 2's rules");
    } finally {
      session.close();
    }
  });

  it("refuses an agent-service config for Flyte 2", async () => {
    const { parsePropellerConfig } = await import("../../packages/runtime/src/propeller/config.js");
    const config = parsePropellerConfig(`agent-service:\n  defaultAgent:\n    endpoint: ${server.address}\n`);
    await expect(
      executeTask({
        ...options({ task: shoutTask, inputs: { text: "x" } }),
        endpoint: undefined,
        config,
      }),
    ).rejects.toThrow("Flyte 2's executor reads the connector-service section");
  });
});
