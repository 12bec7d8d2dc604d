// The agents the benchmark serves (loaded by `flyte-agent serve agent -m bench/agents.mjs`).
import {
  AgentRegistry,
  AsyncAgentBase,
  SyncAgentBase,
  TaskExecutionPhase,
} from "../packages/runtime/dist/index.js";

class BenchAgent extends AsyncAgentBase {
  constructor() {
    super({ taskTypeName: "bench" });
  }
  async create({ inputs }) {
    return { job_id: `job-${String(inputs.n)}` };
  }
  async get() {
    return { phase: TaskExecutionPhase.RUNNING, message: "running" };
  }
  async delete() {}
}

class BenchSyncAgent extends SyncAgentBase {
  constructor() {
    super({ taskTypeName: "bench_sync" });
  }
  async do({ inputs }) {
    return { phase: TaskExecutionPhase.SUCCEEDED, outputs: { n: Number(inputs.n) + 1 } };
  }
}

AgentRegistry.register(new BenchAgent());
AgentRegistry.register(new BenchSyncAgent());
