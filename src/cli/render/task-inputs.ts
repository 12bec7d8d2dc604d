import { z } from "zod";
import type { TaskDefinition } from "@flyte-agent/runtime/internal/task/define-task.js";
import { describeType, parseInputString } from "@flyte-agent/runtime/internal/types/index.js";
import { TypeTransformError } from "@flyte-agent/runtime/internal/types/errors.js";
import { UsageError } from "@flyte-agent/runtime/internal/cli/errors.js";

function isOptional(schema: z.ZodType): boolean {
  return z.safeParse(schema, undefined).success;
}

function isBoolean(schema: z.ZodType): boolean {
  try {
    return describeType(schema).startsWith("bool");
  } catch {
    return false;
  }
}

/** The "inputs" part of `run <file> --help`. */
export function describeInputs(task: TaskDefinition): string {
  const entries = Object.entries(task.inputs as Record<string, z.ZodType>);
  const lines = [`Task ${task.name} (type ${task.taskType} v${task.taskTypeVersion})`];
  if (task.description) lines.push(`  ${task.description}`);
  if (entries.length === 0) {
    lines.push("", "Inputs: none");
    return lines.join("\n");
  }
  lines.push("", "Inputs:");
  const vars = task.interface().inputs?.variables ?? {};
  for (const [name, schema] of entries) {
    const type = describeType(schema);
    const note = isOptional(schema) ? "optional" : "required";
    const desc = vars[name]?.description;
    lines.push(`  --${name} <${type}>  ${note}${desc ? `  ${desc}` : ""}`);
  }
  return lines.join("\n");
}

/**
 * Builds input values from `--name value` / `--name=value` tokens with the task's schemas. A dash in a
 * flag may stand for an underscore in the input name; a boolean flag alone means true.
 * @throws UsageError naming the input.
 */
export function buildInputs(task: TaskDefinition, tokens: readonly string[]): Record<string, unknown> {
  const schemas = task.inputs as Record<string, z.ZodType>;
  const names = Object.keys(schemas);
  const raw = new Map<string, string>();
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!token.startsWith("--")) {
      throw new UsageError(`unexpected argument "${token}": inputs are given as --<input> <value>`);
    }
    let flag = token.slice(2);
    let value: string | undefined;
    const eq = flag.indexOf("=");
    if (eq >= 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    const name = names.find((n) => n === flag) ?? names.find((n) => n === flag.replace(/-/g, "_"));
    if (!name) {
      throw new UsageError(
        `unknown option --${flag}: task ${task.name} has ${names.length ? `inputs ${names.map((n) => `--${n}`).join(", ")}` : "no inputs"}`,
      );
    }
    if (value === undefined) {
      const next = tokens[i + 1];
      if (isBoolean(schemas[name]!) && (next === undefined || next.startsWith("--"))) value = "true";
      else if (next === undefined)
        throw new UsageError(`input --${name} needs a value (${describeType(schemas[name]!)})`);
      else {
        value = next;
        i++;
      }
    }
    raw.set(name, value);
  }
  const values: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    const text = raw.get(name);
    if (text === undefined) {
      if (!isOptional(schema)) throw new UsageError(`missing input --${name} (${describeType(schema)})`);
      continue;
    }
    try {
      values[name] = parseInputString(schema, text, name);
    } catch (err) {
      if (err instanceof TypeTransformError) {
        throw new UsageError(`bad value for --${name} (${describeType(schema)}): ${err.detail}`);
      }
      throw err;
    }
  }
  return values;
}
