// Agents for the load benchmark and its CI run (test/reliability/load.test.ts), served by
// `flyte-agent serve agent -m bench/load-agents.mjs`.
// The async agent keeps every bit of a task's state in resource_meta, so the server holds nothing per
// task: any memory the server gains under load is its own, not the agent's.
import { setTimeout as sleep } from "node:timers/promises";
import {
  AgentRegistry,
  AsyncAgentBase,
  SyncAgentBase,
  TaskExecutionPhase,
} from "../packages/runtime/dist/index.js";

class LoadAsyncAgent extends AsyncAgentBase {
  constructor() {
    super({ taskTypeName: "load_async" });
  }
  async create({ inputs }) {
    const n = Number(inputs.n);
    return { job_id: `job-${n}`, n, started_at_ms: Date.now(), duration_ms: Number(inputs.duration_ms) };
  }
  async get(meta) {
    if (Date.now() - meta.started_at_ms < meta.duration_ms) return { phase: TaskExecutionPhase.RUNNING };
    return { phase: TaskExecutionPhase.SUCCEEDED, outputs: { job_id: meta.job_id, doubled: meta.n * 2 } };
  }
  async delete() {}
}

class LoadSyncAgent extends SyncAgentBase {
  constructor() {
    super({ taskTypeName: "load_sync" });
  }
  async do({ inputs }) {
    const delay = Number(inputs.delay_ms);
    if (delay > 0) await sleep(delay);
    return { phase: TaskExecutionPhase.SUCCEEDED, outputs: { n: Number(inputs.n) + 1 } };
  }
}

AgentRegistry.register(new LoadAsyncAgent());
AgentRegistry.register(new LoadSyncAgent());
