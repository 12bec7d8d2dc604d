import type { z } from "zod";
import {
  type AsyncAgentBase,
  isAsyncAgent,
  isSyncAgent,
  type SyncAgentBase,
} from "@flyte-agent/runtime/internal/core/agent.js";
import type { TaskRequest } from "@flyte-agent/runtime/internal/core/context.js";
import { AgentNotFoundError, ErrorCode, FlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";
import { isTerminalPhase, phaseName, TaskExecutionPhase } from "@flyte-agent/runtime/internal/core/phase.js";
import { toProtoResource } from "@flyte-agent/runtime/internal/core/proto-resource.js";
import type { Resource } from "@flyte-agent/runtime/internal/core/resource.js";
import { formatCategory } from "@flyte-agent/runtime/internal/core/task-category.js";
import { Resource as ProtoResource } from "@flyte-agent/runtime/internal/gen/flyteidl/admin/agent.js";
import type { TaskLog } from "@flyte-agent/runtime/internal/gen/flyteidl/core/execution.js";
import type { LiteralMap } from "@flyte-agent/runtime/internal/gen/flyteidl/core/literals.js";
import type { TaskTemplate } from "@flyte-agent/runtime/internal/gen/flyteidl/core/tasks.js";
import { encodeOutputs } from "@flyte-agent/runtime/internal/types/task-literals.js";
import type { TaskDefinition } from "@flyte-agent/runtime/internal/task/define-task.js";
import type { SchemaShape, ShapeInput, ShapeOutput } from "@flyte-agent/runtime/internal/types/literal.js";
import {
  type AgentContextOptions,
  createAgentContext,
  createTaskRequest,
  type TaskRequestOptions,
} from "./task-request.js";

/** What an agent reported, after the round trip through protobuf that FlytePropeller would see. */
export interface TaskResult<O extends SchemaShape = SchemaShape> {
  readonly phase: TaskExecutionPhase;
  /** The phase's name, e.g. `"SUCCEEDED"`, for readable assertions and messages. */
  readonly phaseName: string;
  /** True once the phase is terminal (SUCCEEDED, FAILED, ABORTED, RETRYABLE_FAILED). */
  readonly done: boolean;
  readonly succeeded: boolean;
  readonly message: string;
  /** The outputs decoded with the task's output schemas, or `undefined` when the agent sent none. */
  readonly outputs: ShapeOutput<O> | undefined;
  /** The outputs as they went on the wire. */
  readonly outputLiterals: LiteralMap | undefined;
  readonly logLinks: readonly TaskLog[];
  readonly customInfo: Record<string, unknown> | undefined;
  /** The resource exactly as the agent returned it. */
  readonly resource: Resource;
}

/** Controls {@link AsyncTaskRun.pollUntilDone} and {@link runAsyncTask}. */
export interface PollOptions {
  /** Gives up (throws) after this many polls without a terminal phase. @default 1000 */
  readonly maxPolls?: number;
  /** Called before every poll (the first is number 1): advance a manual clock here. */
  readonly beforePoll?: (pollNumber: number) => void | Promise<void>;
}

/** The resource metadata type of an async agent (what its `create` resolves to). */
export type MetaOf<A extends AsyncAgentBase<any>> = Awaited<ReturnType<A["create"]>>;

/** One async task started by {@link startAsyncTask}; poll it step by step, as FlytePropeller would. */
export interface AsyncTaskRun<Meta, O extends SchemaShape = SchemaShape> {
  /** The request `create` received. */
  readonly request: TaskRequest;
  /** The `resource_meta` bytes FlytePropeller would store. */
  readonly resourceMeta: Uint8Array;
  /** The metadata as `get` and `delete` receive it (decoded from {@link resourceMeta}). */
  readonly meta: Meta;
  /** How many times `get` was called. */
  readonly polls: number;
  /** The last poll's result. */
  readonly last: TaskResult<O> | undefined;
  /** Calls `get` once, without waiting, and returns what it reported. */
  poll(options?: AgentContextOptions): Promise<TaskResult<O>>;
  /** Polls until a terminal phase, without waiting between polls. */
  pollUntilDone(options?: PollOptions): Promise<TaskResult<O>>;
  /** Calls `delete`, as FlytePropeller does when the execution is aborted. */
  delete(options?: AgentContextOptions): Promise<void>;
}

function checkCategory(
  agent: { name: string; taskCategory: { name: string; version: number } },
  task: TaskDefinition<any, any, any>,
): void {
  const served = formatCategory(agent.taskCategory);
  const wanted = formatCategory(task.category);
  if (served !== wanted) throw new AgentNotFoundError(wanted, [served]);
}

function toResult<O extends SchemaShape>(
  resource: Resource,
  agent: { outputTypes: Readonly<Record<string, z.ZodType>> | undefined },
  task: TaskDefinition<any, O, any>,
  template: TaskTemplate,
): TaskResult<O> {
  const proto = toProtoResource(resource, (values) => encodeOutputs(values, agent.outputTypes, template));
  // The answer goes through protobuf as it would on the wire, so a value that cannot be sent fails here.
  const wire = ProtoResource.decode(ProtoResource.encode(proto).finish());
  const phase = wire.phase as number as TaskExecutionPhase;
  return {
    phase,
    phaseName: phaseName(phase),
    done: isTerminalPhase(phase),
    succeeded: phase === TaskExecutionPhase.SUCCEEDED,
    message: wire.message,
    outputs: wire.outputs ? task.decodeOutputs(wire.outputs) : undefined,
    outputLiterals: wire.outputs,
    logLinks: wire.logLinks,
    customInfo: wire.customInfo,
    resource,
  };
}

/**
 * Starts `task` on an async agent without a server: builds the request as the server would, calls
 * `create`, and encodes the metadata to `resource_meta` bytes. Then step through the job with
 * `poll()`; nothing waits, so a test decides when time passes (see {@link createManualClock}).
 *
 * @example
 * ```ts
 * const run = await startAsyncTask(new BigqueryAgent(), query, { sql: "select 1" });
 * expect((await run.poll()).phaseName).toBe("RUNNING");
 * clock.advance(60_000);
 * expect((await run.poll()).outputs).toEqual({ rows: 1 });
 * ```
 * @throws AgentNotFoundError when the agent does not serve the task's type and version.
 */
export async function startAsyncTask<
  A extends AsyncAgentBase<any>,
  I extends SchemaShape,
  O extends SchemaShape,
>(
  agent: A,
  task: TaskDefinition<I, O, any>,
  inputs: ShapeInput<I>,
  options: TaskRequestOptions = {},
): Promise<AsyncTaskRun<MetaOf<A>, O>> {
  if (!isAsyncAgent(agent)) {
    throw new FlyteAgentError(
      ErrorCode.WRONG_AGENT_KIND,
      `${String((agent as { name?: unknown }).name)} is not an async agent: use runSyncTask`,
    );
  }
  checkCategory(agent, task);
  const request = createTaskRequest(task, inputs, options);
  const resourceMeta = agent.codec.encode(await agent.create(request));
  // Flyte 2 sends the connection with every GetTask and DeleteTask, not only with CreateTask.
  const context = (o?: AgentContextOptions) =>
    createAgentContext({
      outputPrefix: request.outputPrefix,
      ...(options.connection ? { connection: options.connection } : {}),
      ...o,
    });
  let polls = 0;
  let last: TaskResult<O> | undefined;

  const run: AsyncTaskRun<MetaOf<A>, O> = {
    request,
    resourceMeta,
    // Decoded afresh on every call: the server is stateless, so `get` never sees what a previous call changed.
    get meta() {
      return agent.codec.decode(resourceMeta) as MetaOf<A>;
    },
    get polls() {
      return polls;
    },
    get last() {
      return last;
    },
    async poll(o) {
      polls++;
      const resource = await agent.get(agent.codec.decode(resourceMeta), context(o));
      last = toResult(resource, agent, task, request.taskTemplate);
      return last;
    },
    async pollUntilDone(o = {}) {
      const maxPolls = o.maxPolls ?? 1000;
      for (let i = 1; i <= maxPolls; i++) {
        await o.beforePoll?.(i);
        const result = await run.poll();
        if (result.done) return result;
      }
      throw new FlyteAgentError(
        ErrorCode.AGENT_FAILURE,
        `task ${task.name} did not reach a terminal phase in ${maxPolls} polls (last: ${last?.phaseName ?? "none"}${last?.message ? `, "${last.message}"` : ""})`,
      );
    },
    async delete(o) {
      await agent.delete(agent.codec.decode(resourceMeta), context(o));
    },
  };
  return run;
}

/**
 * Runs `task` on an async agent to the end without a server or any waiting: `create`, then `get`
 * until a terminal phase. Use `beforePoll` to move a manual clock between polls.
 */
export async function runAsyncTask<I extends SchemaShape, O extends SchemaShape>(
  agent: AsyncAgentBase<any>,
  task: TaskDefinition<I, O, any>,
  inputs: ShapeInput<I>,
  options: TaskRequestOptions & PollOptions = {},
): Promise<TaskResult<O>> {
  const run = await startAsyncTask(agent, task, inputs, options);
  return run.pollUntilDone(options);
}

/**
 * Runs `task` on a sync agent without a server: builds the request as the server would, calls `do`
 * and returns what it reported after the protobuf round trip.
 * @throws AgentNotFoundError when the agent does not serve the task's type and version.
 */
export async function runSyncTask<I extends SchemaShape, O extends SchemaShape>(
  agent: SyncAgentBase,
  task: TaskDefinition<I, O, any>,
  inputs: ShapeInput<I>,
  options: TaskRequestOptions = {},
): Promise<TaskResult<O>> {
  if (!isSyncAgent(agent)) {
    throw new FlyteAgentError(
      ErrorCode.WRONG_AGENT_KIND,
      `${String((agent as { name?: unknown }).name)} is not a sync agent: use startAsyncTask or runAsyncTask`,
    );
  }
  checkCategory(agent, task);
  const request = createTaskRequest(task, inputs, options);
  return toResult(await agent.do(request), agent, task, request.taskTemplate);
}
