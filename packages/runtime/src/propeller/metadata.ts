import type { TaskExecutionMetadata } from "../gen/flyteidl/admin/agent.js";
import type { TaskExecutionIdentifier } from "../gen/flyteidl/core/identifier.js";
import type { Identity } from "../gen/flyteidl/core/security.js";

/** What a task execution's metadata is built from. */
export interface TaskExecutionMetadataInput {
  readonly taskExecutionId: TaskExecutionIdentifier;
  readonly namespace: string;
  /** The workflow's name (the `workflow-name` label); a single task runs in a one-node workflow. */
  readonly workflowName: string;
  readonly interruptible: boolean;
  /** Extra labels (FlyteAdmin's execution labels). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly k8sServiceAccount: string;
  readonly environmentVariables?: Readonly<Record<string, string>>;
  /** The execution's `SecurityContext.RunAs`. */
  readonly runAs?: Identity;
}

/** `utils.SanitizeLabelValue` (`flytepropeller/pkg/utils/k8s.go:104-111`). */
export function sanitizeLabelValue(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^-a-z0-9]+/g, "-")
    .slice(0, 63)
    .replace(/^-+|-+$/g, "");
}

/** FNV-1a, 32 bits, as Go's `hash/fnv`. */
function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The labels a task node gets: the workflow's (`execution-id`, `project`, `domain`, `workflow-name`,
 * `shard-key` = fnv32a(execution-id) % 32; `compiler/transformers/k8s/workflow.go:236-245`), then
 * `node-id`, the sanitized `task-name` and `interruptible` (`nodes/node_exec_context.go:216-226`).
 */
export function nodeLabels(input: TaskExecutionMetadataInput): Record<string, string> {
  const exec = input.taskExecutionId.nodeExecutionId?.executionId;
  const executionName = exec?.name ?? "";
  return {
    ...(input.labels ?? {}),
    "execution-id": executionName,
    project: exec?.project ?? "",
    domain: exec?.domain ?? "",
    "workflow-name": sanitizeLabelValue(input.workflowName),
    "shard-key": String(fnv32a(executionName) % 32),
    "node-id": sanitizeLabelValue(input.taskExecutionId.nodeExecutionId?.nodeId ?? ""),
    "task-name": sanitizeLabelValue(input.taskExecutionId.taskId?.name ?? ""),
    interruptible: String(input.interruptible),
  };
}

/**
 * The `task_execution_metadata` Propeller 1.16 sends (`flyteplugins/.../webapi/agent/plugin.go:433-445`):
 * id, namespace, labels, annotations, service account, environment variables and identity (RunAs).
 * max_attempts, interruptible, interruptible_failure_threshold and overrides stay at their zero values.
 */
export function buildTaskExecutionMetadata(input: TaskExecutionMetadataInput): TaskExecutionMetadata {
  return {
    taskExecutionId: input.taskExecutionId,
    namespace: input.namespace,
    labels: nodeLabels(input),
    annotations: { ...(input.annotations ?? {}) },
    k8sServiceAccount: input.k8sServiceAccount,
    environmentVariables: { ...(input.environmentVariables ?? {}) },
    maxAttempts: 0,
    interruptible: false,
    interruptibleFailureThreshold: 0,
    overrides: undefined,
    identity: input.runAs,
  };
}
