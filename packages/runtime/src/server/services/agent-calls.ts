import type {
  Resource as ProtoResource,
  TaskCategory as ProtoTaskCategory,
  TaskExecutionMetadata,
} from "../../gen/flyteidl/admin/agent.js";
import { LiteralMap } from "../../gen/flyteidl/core/literals.js";
import type { TaskTemplate } from "../../gen/flyteidl/core/tasks.js";
import {
  type Agent,
  type AsyncAgentBase,
  isAsyncAgent,
  isSyncAgent,
  type LogChunk,
  type MetricResult,
  type SyncAgentBase,
} from "../../core/agent.js";
import type { TaskRequest } from "../../core/context.js";
import { ErrorCode, FlyteAgentError } from "../../core/errors.js";
import type { AgentRegistry } from "../../core/registry.js";
import { toProtoResource } from "../../core/proto-resource.js";
import type { Resource } from "../../core/resource.js";
import { formatCategory, type TaskCategory } from "../../core/task-category.js";
import type { CallScope } from "../call-scope.js";
import { resourceFindings } from "../../propeller/findings.js";
import type { CallPath } from "../../propeller/status.js";
import { decodeInputs, encodeOutputs } from "../../types/task-literals.js";

/** The category a request names: task_category wins when its name is set; the deprecated task_type means version 0. */
export function categoryOf(category: ProtoTaskCategory | undefined, taskType: string): TaskCategory {
  return category && category.name
    ? { name: category.name, version: category.version }
    : { name: taskType, version: 0 };
}

/** The part of either protocol's TaskExecutionMetadata that names the execution. */
interface NamedExecution {
  readonly taskExecutionId:
    | {
        readonly nodeExecutionId:
          | {
              readonly nodeId: string;
              readonly executionId: { project: string; domain: string; name: string } | undefined;
            }
          | undefined;
        readonly retryAttempt: number;
      }
    | undefined;
}

/** `project/domain/name/node/retry` of a task execution, for log lines. */
export function executionIdOf(meta: NamedExecution | undefined): string | undefined {
  const id = meta?.taskExecutionId;
  if (!id) return undefined;
  const node = id.nodeExecutionId;
  const exec = node?.executionId;
  return [exec?.project, exec?.domain, exec?.name, node?.nodeId, id.retryAttempt]
    .filter((p) => p !== undefined && p !== "")
    .join("/");
}

/** The async agent serving `category`. @throws FlyteAgentError (AGENT_NOT_FOUND, WRONG_AGENT_KIND) */
export function asyncAgentFor(registry: AgentRegistry, category: TaskCategory): AsyncAgentBase<any> {
  const agent = registry.getAgent(category.name, category.version);
  if (!isAsyncAgent(agent)) {
    throw new FlyteAgentError(
      ErrorCode.WRONG_AGENT_KIND,
      `${formatCategory(category)} is served by the sync agent ${agent.name}: call ExecuteTaskSync instead`,
    );
  }
  return agent;
}

/** The sync agent serving `category`. @throws FlyteAgentError (AGENT_NOT_FOUND, WRONG_AGENT_KIND) */
export function syncAgentFor(registry: AgentRegistry, category: TaskCategory): SyncAgentBase {
  const agent = registry.getAgent(category.name, category.version);
  if (!isSyncAgent(agent)) {
    throw new FlyteAgentError(
      ErrorCode.WRONG_AGENT_KIND,
      `${formatCategory(agent.taskCategory)} is served by the async agent ${agent.name}: call CreateTask/GetTask instead`,
    );
  }
  return agent;
}

/** The arguments of `create` and `do`: the call's context plus the task, its inputs decoded. */
export function taskRequest(
  scope: CallScope,
  template: TaskTemplate,
  inputs: LiteralMap | undefined,
  metadata: TaskExecutionMetadata | undefined,
  inputContext?: Readonly<Record<string, string>>,
): TaskRequest {
  const context = scope.context;
  return {
    get signal() {
      return context.signal;
    },
    get logger() {
      return context.logger;
    },
    outputPrefix: context.outputPrefix,
    ...(context.deadline ? { deadline: context.deadline } : {}),
    ...(context.connection ? { connection: context.connection } : {}),
    taskTemplate: template,
    inputs: decodeInputs(template, inputs),
    inputLiterals: inputs,
    taskExecutionMetadata: metadata,
    ...(inputContext ? { inputContext } : {}),
  };
}

// The agent calls themselves, once for both protocols: each service module decodes its request
// into these arguments and maps the answer to its own messages.

/** CreateTask: starts the job and returns its resource_meta bytes. */
export async function createJob(
  scope: CallScope,
  agent: AsyncAgentBase<any>,
  request: TaskRequest,
): Promise<Buffer> {
  const meta = await agent.create(request);
  const resourceMeta = Buffer.from(agent.codec.encode(meta));
  scope.logger.debug({ resource_meta_bytes: resourceMeta.length }, "task created");
  return resourceMeta;
}

/** GetTask: what the agent reports on the job (checked: an agent must return a Resource). */
export async function getJob(
  scope: CallScope,
  agent: AsyncAgentBase<any>,
  resourceMeta: Uint8Array,
): Promise<Resource> {
  return checkedResource(agent, await agent.get(agent.codec.decode(resourceMeta), scope.context));
}

/** DeleteTask: cancels the job. */
export async function deleteJob(
  scope: CallScope,
  agent: AsyncAgentBase<any>,
  resourceMeta: Uint8Array,
): Promise<void> {
  await agent.delete(agent.codec.decode(resourceMeta), scope.context);
  scope.logger.debug("task deleted");
}

/** What GetTaskMetrics asks, in either protocol (the two requests share these fields). */
export interface MetricsRequest {
  readonly resourceMeta: Uint8Array;
  readonly queries: readonly string[];
  readonly startTime: { seconds: bigint; nanos: number } | undefined;
  readonly endTime: { seconds: bigint; nanos: number } | undefined;
  readonly step: { seconds: bigint; nanos: number } | undefined;
}

/** GetTaskMetrics. @throws FlyteAgentError (UNIMPLEMENTED) when the agent has no `getMetrics`. */
export async function jobMetrics(
  scope: CallScope,
  agent: AsyncAgentBase<any>,
  req: MetricsRequest,
): Promise<{ metric: string; data: MetricResult["data"] }[]> {
  if (!agent.getMetrics) {
    throw new FlyteAgentError(ErrorCode.UNIMPLEMENTED, `agent ${agent.name} does not implement getMetrics`);
  }
  const toDate = (t: { seconds: bigint; nanos: number }) =>
    new Date(Number(t.seconds) * 1000 + t.nanos / 1e6);
  const step = req.step;
  const results = await agent.getMetrics(
    agent.codec.decode(req.resourceMeta),
    {
      queries: req.queries,
      ...(req.startTime ? { startTime: toDate(req.startTime) } : {}),
      ...(req.endTime ? { endTime: toDate(req.endTime) } : {}),
      ...(step ? { stepMs: Number(step.seconds) * 1000 + step.nanos / 1e6 } : {}),
    },
    scope.context,
  );
  return results.map((r) => ({ metric: r.metric, data: r.data }));
}

/**
 * GetTaskLogs: hands each chunk the agent yields to `sendChunk` as it comes (the call's deadline and
 * cancellation end the wait). @throws FlyteAgentError (UNIMPLEMENTED) when the agent has no `getLogs`.
 */
export async function streamJobLogs(
  scope: CallScope,
  agent: AsyncAgentBase<any>,
  req: { readonly resourceMeta: Uint8Array; readonly lines: bigint; readonly token: string },
  sendChunk: (chunk: LogChunk) => Promise<void>,
): Promise<void> {
  if (!agent.getLogs) {
    throw new FlyteAgentError(ErrorCode.UNIMPLEMENTED, `agent ${agent.name} does not implement getLogs`);
  }
  const logs = agent.getLogs(
    agent.codec.decode(req.resourceMeta),
    { lines: Number(req.lines), token: req.token },
    scope.context,
  );
  const iterator = logs[Symbol.asyncIterator]();
  for (;;) {
    const next = await scope.race(iterator.next());
    if (next.done) return;
    await sendChunk(next.value);
  }
}

/** The Resource an agent returned, or a clear error when it returned none. */
export function checkedResource(agent: Agent, resource: Resource): Resource {
  if (resource === undefined || resource === null || typeof resource !== "object") {
    throw new FlyteAgentError(ErrorCode.AGENT_FAILURE, `agent ${agent.name} returned no Resource`);
  }
  return resource;
}

/**
 * A Resource as Flyte's protocols carry it, before the protocol-specific mapping: outputs encoded
 * with the agent's declared output types, else the template's (CreateTask/ExecuteTaskSync carry
 * one). Flyte 1 sends this message as is; Flyte 2 maps it (`flyte2-wire.ts`).
 */
export function encodeResource(
  agent: Agent,
  resource: Resource,
  template: TaskTemplate | undefined,
): ProtoResource {
  // Not test-encoded here: the response is encoded once, by encodeResponse, which names an output
  // that does not fit.
  return toProtoResource(checkedResource(agent, resource), (values) =>
    encodeOutputs(values, agent.outputTypes, template, { check: false }),
  );
}

/**
 * The Resource an agent returned, checked and converted for the wire: outputs encoded with the
 * agent's declared output types, else the template's (CreateTask/ExecuteTaskSync carry one).
 * @throws FlyteAgentError (AGENT_FAILURE) when the agent returned no Resource at all.
 */
export function toWireResource(
  scope: CallScope,
  agent: Agent,
  resource: Resource,
  template: TaskTemplate | undefined,
  path: CallPath,
): ProtoResource {
  const wire = encodeResource(agent, resource, template);
  // What FlytePropeller drops or misreads in this answer (propeller/findings.ts). An unset phase is an
  // error of the agent; the rest is logged at debug, since GetTask is the hot path and repeats.
  for (const finding of resourceFindings(wire, path)) {
    scope.logger[finding.rule === "phase-unset" ? "error" : "debug"](
      { agent: agent.name, rule: finding.rule },
      finding.message,
    );
  }
  return wire;
}

/** The encoded size of a call's inputs, for the input-size hook. */
export function encodedSize(inputs: LiteralMap | undefined): number {
  return inputs ? LiteralMap.encode(inputs).finish().length : 0;
}
