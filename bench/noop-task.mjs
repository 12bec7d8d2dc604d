// A task whose agent does nothing, for timing `flyte-agent run` itself (bench/run.mjs):
//   node bin/flyte-agent.js run bench/noop-task.mjs
// Plain JavaScript, so no TypeScript loader is needed to import it.
import { AgentRegistry, defineTask, SyncAgentBase, TaskExecutionPhase } from "flyte-agent";

class NoopAgent extends SyncAgentBase {
  constructor() {
    super({ taskTypeName: "bench_noop" });
  }
  async do() {
    return { phase: TaskExecutionPhase.SUCCEEDED };
  }
}

AgentRegistry.register(new NoopAgent());

export const noop = defineTask({ name: "noop", taskType: "bench_noop", inputs: {}, outputs: {} });
