import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentRegistry,
  AsyncAgentBase,
  SyncAgentBase,
  TaskExecutionPhase,
  type Resource,
} from "../../packages/runtime/src/index.js";
import { AgentServer, UNSERVED_TASK_TYPE, type CallHooks } from "../../packages/runtime/src/server/index.js";
import { clients, executeSync, failure, unary } from "./helpers.js";

class JobAgent extends AsyncAgentBase {
  constructor() {
    super({ taskTypeName: "job", taskTypeVersion: 2 });
  }
  async create(): Promise<unknown> {
    return { id: 1 };
  }
  async get(): Promise<Resource> {
    return { phase: TaskExecutionPhase.RUNNING };
  }
  async delete(): Promise<void> {}
}

class EchoAgent extends SyncAgentBase {
  constructor() {
    super({ taskTypeName: "echo" });
  }
  async do(): Promise<Resource> {
    return { phase: TaskExecutionPhase.SUCCEEDED };
  }
}

const template = (type: string, taskTypeVersion = 0) => ({
  id: undefined,
  type,
  metadata: undefined,
  interface: undefined,
  custom: undefined,
  taskTypeVersion,
  securityContext: undefined,
  extendedResources: undefined,
  config: {},
});

describe("task types in call hooks (and so in metric labels)", () => {
  const seen: string[] = [];
  const hooks: CallHooks = {
    onStart: (_op, taskType) => (seen.push(`start ${taskType}`), true),
    onEnd: (_op, taskType) => void seen.push(`end ${taskType}`),
    onInputs: (taskType) => void seen.push(`inputs ${taskType}`),
  };
  let server: AgentServer;
  let c: ReturnType<typeof clients>;

  beforeAll(async () => {
    const registry = new AgentRegistry();
    registry.register(new JobAgent());
    registry.register(new EchoAgent());
    server = await AgentServer.start({ registry, host: "127.0.0.1", port: 0, hooks });
    c = clients(server.address);
  });

  afterAll(async () => {
    c.close();
    await server.shutdown(1000);
  });

  it("reports every task type no agent serves under one name, whatever the caller sent", async () => {
    seen.length = 0;
    for (let i = 0; i < 20; i++) {
      await failure(
        unary(c.async.getTask.bind(c.async), {
          taskType: "",
          taskCategory: { name: `scanner-${i}-${"x".repeat(i * 50)}`, version: 0 },
          resourceMeta: Buffer.from("{}"),
          outputPrefix: "",
        }),
      );
    }
    await failure(
      unary(c.async.createTask.bind(c.async), {
        template: template("made-up"),
        inputs: undefined,
        outputPrefix: "",
        taskExecutionMetadata: undefined,
      }),
    );
    await failure(
      executeSync(c.sync, [
        {
          header: {
            template: template("also-made-up"),
            outputPrefix: "",
            taskExecutionMetadata: undefined,
            maxDatasetSizeBytes: 0n,
          },
        },
        { inputs: { literals: {} } },
      ]),
    );
    expect(new Set(seen)).toEqual(
      new Set([`start ${UNSERVED_TASK_TYPE}`, `end ${UNSERVED_TASK_TYPE}`, `inputs ${UNSERVED_TASK_TYPE}`]),
    );
    expect(seen.filter((s) => s.startsWith("end"))).toHaveLength(22);
  });

  it("keeps the name of a served task type, at any version, and the empty one of ListAgents", async () => {
    seen.length = 0;
    await unary(c.async.createTask.bind(c.async), {
      template: template("job", 2),
      inputs: undefined,
      outputPrefix: "",
      taskExecutionMetadata: undefined,
    });
    // A served name asked for at a version nobody serves is still a bounded label.
    await failure(
      unary(c.async.getTask.bind(c.async), {
        taskType: "",
        taskCategory: { name: "job", version: 7 },
        resourceMeta: Buffer.from("{}"),
        outputPrefix: "",
      }),
    );
    await executeSync(c.sync, [
      {
        header: {
          template: template("echo"),
          outputPrefix: "",
          taskExecutionMetadata: undefined,
          maxDatasetSizeBytes: 0n,
        },
      },
      { inputs: { literals: {} } },
    ]);
    await unary(c.meta.listAgents.bind(c.meta), {});
    expect(seen).toEqual([
      "start job",
      "inputs job",
      "end job",
      "start job",
      "end job",
      "start echo",
      "inputs echo",
      "end echo",
      "start ",
      "end ",
    ]);
  });
});
