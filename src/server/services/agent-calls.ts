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
  type SyncAgentBase,
} from "../../core/agent.js";
import type { TaskRequest } from "../../core/context.js";
import { ErrorCode, FlyteAgentError } from "../../core/errors.js";
import type { AgentRegistry } from "../../core/registry.js";
import { type Resource, toProtoResource } from "../../core/resource.js";
import { formatCategory, type TaskCategory } from "../../core/task-category.js";
import type { CallScope } from "../call-scope.js";
import { decodeInputs, encodeOutputs } from "../literals.js";
import { resourceFindings } from "../../propeller/findings.js";
import type { CallPath } from "../../propeller/status.js";

/** The category a request names: task_category wins when its name is set; the deprecated task_type means version 0. */
export function categoryOf(category: ProtoTaskCategory | undefined, taskType: string): TaskCategory {
  return category && category.name
    ? { name: category.name, version: category.version }
    : { name: taskType, version: 0 };
}

/** `project/domain/name/node/retry` of a task execution, for log lines. */
export function executionIdOf(meta: TaskExecutionMetadata | undefined): string | undefined {
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
    taskTemplate: template,
    inputs: decodeInputs(template, inputs),
    inputLiterals: inputs,
    taskExecutionMetadata: metadata,
  };
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
  if (resource === undefined || resource === null || typeof resource !== "object") {
    throw new FlyteAgentError(ErrorCode.AGENT_FAILURE, `agent ${agent.name} returned no Resource`);
  }
  const wire = toProtoResource(resource, (values) => encodeOutputs(values, agent.outputTypes, template));
  // What FlytePropeller drops or misreads in this answer (propeller/findings.ts).
  for (const finding of resourceFindings(wire, path)) {
    scope.logger[finding.rule === "phase-unset" ? "error" : "warn"](
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
