import type { Agent } from "@flyte-agent/runtime/internal/core/agent.js";
import { ErrorCode, FlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";
import { AgentRegistry } from "@flyte-agent/runtime/internal/core/registry.js";
import type { ExecuteTaskOptions, ExecutionResult } from "../executor/execute-task.js";
import type { TaskDefinition } from "@flyte-agent/runtime/internal/task/define-task.js";
import type { SchemaShape, ShapeInput } from "@flyte-agent/runtime/internal/types/literal.js";
import { createManualClock } from "./manual-clock.js";
import type { TestServer } from "./test-server.js";

/** What {@link runThroughExecutor} takes besides the task and its inputs. */
export interface RunThroughExecutorOptions extends Omit<
  ExecuteTaskOptions,
  "task" | "inputs" | "endpoint" | "config" | "session"
> {
  /** Agents the executor serves itself, in-process on a loopback port (in a registry of their own). */
  readonly agents?: readonly Agent[];
  /** A server from {@link startTestServer}: the executor dials it instead of serving `agents`. */
  readonly server?: TestServer;
  /**
   * The executor's clock. The default is a manual clock, so the waits between polls take no time;
   * pass the same {@link createManualClock} your stand-in service uses so its jobs progress as the
   * executor waits.
   * @default createManualClock()
   */
  readonly clock?: ExecuteTaskOptions["clock"];
}

/**
 * Runs `task` through the executor — FlytePropeller's create → get → outputs loop, with its request
 * contents, deadlines and status mapping — against real gRPC: either `agents` served in-process on a
 * loopback port, or a {@link startTestServer} server. Nothing waits on the wall clock unless you pass
 * a real clock.
 *
 * @example
 * ```ts
 * const clock = createManualClock();
 * const agent = new BigqueryAgent({ client: new StandInJobService({ now: clock.now }) });
 * const result = await runThroughExecutor(queryTask, { sql: "select 1" }, { agents: [agent], clock });
 * expect(result.succeeded).toBe(true);
 * ```
 * @throws FlyteAgentError (`INVALID_CONFIG`) when neither or both of `agents` and `server` are given.
 */
export async function runThroughExecutor<I extends SchemaShape>(
  task: TaskDefinition<I, SchemaShape, any>,
  inputs: ShapeInput<I>,
  options: RunThroughExecutorOptions,
): Promise<ExecutionResult> {
  const { agents, server, ...rest } = options;
  if ((agents === undefined) === (server === undefined)) {
    throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, "runThroughExecutor takes either agents or server");
  }
  // Loaded here so the isolation helpers never pull in the executor and grpc-js.
  const { executeTask } = await import("../executor/execute-task.js");
  // The executor takes a target; agents given here are served on a loopback port for the run.
  let own: { address: string; shutdown(graceMs?: number): Promise<void> } | undefined;
  if (!server) {
    const { AgentServer } = await import("@flyte-agent/runtime/internal/server/server.js");
    own = await AgentServer.start({ host: "127.0.0.1", port: 0, registry: registryOf(agents ?? []) });
  }
  try {
    return await executeTask({
      ...rest,
      endpoint: server ? server.address : own!.address,
      task,
      inputs,
      clock: options.clock ?? createManualClock(),
    });
  } finally {
    await own?.shutdown(1_000);
  }
}

function registryOf(agents: readonly Agent[]): AgentRegistry {
  const registry = new AgentRegistry();
  for (const agent of agents) registry.register(agent);
  return registry;
}
