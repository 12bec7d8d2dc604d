// `flyte-agent run` of a task declared in Python: the pyflyte package archive, a TaskSpec/TaskTemplate
// .pb, or flytectl's JSON/YAML. The rest of `run` (routing, flags, rendering) is shared with TS tasks.
import type { z } from "zod";
import { AgentRegistry } from "@flyte-agent/runtime/internal/core/registry.js";
import { formatCategory } from "@flyte-agent/runtime/internal/core/task-category.js";
import type { LiteralMap } from "@flyte-agent/runtime/internal/gen/flyteidl/core/literals.js";
import {
  BlobType_BlobDimensionality,
  type LiteralType,
  SimpleType,
} from "@flyte-agent/runtime/internal/gen/flyteidl/core/types.js";
import type { TaskDefinition } from "@flyte-agent/runtime/internal/task/define-task.js";
import { UsageError } from "@flyte-agent/runtime/internal/cli/errors.js";

export { taskSpecFormatOf } from "../task/load-task-spec.js";

/** What {@link loadTaskSpecRun} resolved. */
export interface TaskSpecRun {
  readonly task: TaskDefinition;
  /** The inputs read from `--inputs <file>`, when given. */
  readonly inputs: LiteralMap | undefined;
  /** The tokens left for `--<input> <value>` flags. */
  readonly inputArgs: string[];
}

/** Options of {@link loadTaskSpecRun}. */
export interface TaskSpecRunOptions {
  /** Agent modules to import (`--modules`). */
  readonly modules: readonly string[];
  /** True when the agents are served in-process (no `--endpoint` or `--config`): the type must be served. */
  readonly inProcess: boolean;
  /** Only `--help` is wanted: no agent check and no inputs. */
  readonly help: boolean;
}

/** A Flyte type as flytekit's `LiteralType` prints it, for `--help`: `INTEGER`, `collection(STRING)`, … */
export function flyteTypeName(type: LiteralType | undefined): string {
  if (!type) return "?";
  if (type.simple !== undefined) return SimpleType[type.simple] ?? String(type.simple);
  if (type.collectionType) return `collection(${flyteTypeName(type.collectionType)})`;
  if (type.mapValueType) return `map(STRING, ${flyteTypeName(type.mapValueType)})`;
  if (type.blob)
    return `blob(${type.blob.dimensionality === BlobType_BlobDimensionality.MULTIPART ? "MULTIPART" : "SINGLE"}${type.blob.format ? `, ${type.blob.format}` : ""})`;
  if (type.enumType) return `enum(${type.enumType.values.join(", ")})`;
  if (type.unionType) return `union(${type.unionType.variants.map(flyteTypeName).join(" | ")})`;
  if (type.structuredDatasetType)
    return `structured_dataset(${type.structuredDatasetType.format || "any format"})`;
  if (type.schema) return "schema";
  return "?";
}

/** The inputs part of `run <file> <task> --help` for a template: each flag with its Flyte type. */
export function describeTemplateInputs(task: TaskDefinition): string {
  const variables = task.interface().inputs?.variables ?? {};
  const schemas = task.inputs as Record<string, z.ZodType>;
  const lines = [`Task ${task.name} (type ${task.taskType} v${task.taskTypeVersion})`];
  if (task.description) lines.push(`  ${task.description}`);
  const entries = Object.entries(variables);
  if (entries.length === 0) {
    lines.push("", "Inputs: none");
  } else {
    lines.push("", "Inputs (Flyte types from the template's interface):");
    for (const [name, variable] of entries) {
      const schema = schemas[name];
      const note = !schema
        ? "only via --inputs"
        : schema.safeParse(undefined).success
          ? "optional"
          : "required";
      lines.push(
        `  --${name} <${flyteTypeName(variable.type)}>  ${note}${variable.description ? `  ${variable.description}` : ""}`,
      );
    }
  }
  lines.push(
    "",
    "  --inputs <inputs.pb|inputs.json|inputs.yaml>  all inputs from a file (a LiteralMap, or values by name)",
  );
  return lines.join("\n");
}

/**
 * Loads the named task from a Python-declared task file, imports the agent modules, checks (in-process)
 * that a loaded agent serves the task type, and reads `--inputs <file>` when given.
 * @throws UsageError / FlyteAgentError (`INVALID_CONFIG`) with one sentence: exit code 2.
 */
export async function loadTaskSpecRun(
  file: string,
  taskName: string | undefined,
  tokens: readonly string[],
  options: TaskSpecRunOptions,
): Promise<TaskSpecRun> {
  const { loadTaskSpecFile, pickTaskSpec } = await import("../task/load-task-spec.js");
  const { taskFromTemplate } = await import("../task/template-task.js");
  const loaded = await loadTaskSpecFile(file);
  const entry = pickTaskSpec(loaded, taskName);
  const task = taskFromTemplate(entry.template, { description: entry.description });
  const inputArgs = [...tokens];
  let inputsFile: string | undefined;
  // `--inputs <file>`, unless the task has an input of that name (then the flag is that input).
  if (!("inputs" in (task.interface().inputs?.variables ?? {}))) {
    const at = inputArgs.findIndex((t) => t === "--inputs" || t.startsWith("--inputs="));
    if (at >= 0) {
      const token = inputArgs[at]!;
      inputsFile = token.includes("=") ? token.slice(token.indexOf("=") + 1) : inputArgs[at + 1];
      inputArgs.splice(at, token.includes("=") ? 1 : 2);
      if (!inputsFile || inputsFile.startsWith("--")) throw new UsageError("--inputs needs a file");
      if (inputArgs.length > 0)
        throw new UsageError("give inputs either with --inputs <file> or as --<input> flags, not both");
    }
  }
  if (options.help) return { task, inputs: undefined, inputArgs };

  const { importModule } = await import("../executor/load-task-file.js");
  for (const m of options.modules) await importModule(m);
  if (options.inProcess && !AgentRegistry.default.has(task.taskType, task.taskTypeVersion)) {
    const served = AgentRegistry.default
      .listAgents()
      .flatMap((a) => a.categories.map(formatCategory))
      .sort();
    throw new UsageError(
      `no loaded agent serves task type ${formatCategory(task.category)} of ${task.name}; ` +
        (served.length
          ? `the loaded agents serve ${served.join(", ")}`
          : "no agent is loaded: name the agent module with --modules (e.g. --modules src/agent.ts) or run against --endpoint"),
    );
  }
  let inputs: LiteralMap | undefined;
  if (inputsFile !== undefined) {
    const { readInputsFile } = await import("../task/inputs-file.js");
    inputs = await readInputsFile(task, inputsFile);
  }
  return { task, inputs, inputArgs };
}
