import type { z } from "zod";
import type { LiteralMap, Literal } from "../gen/flyteidl/core/literals.js";
import type { TaskTemplate } from "../gen/flyteidl/core/tasks.js";
import { jsToLiteral, literalToJs, toLiteralMap } from "../types/index.js";

/** Inputs as plain values, typed by the template's interface where it declares them. */
export function decodeInputs(
  template: TaskTemplate,
  inputs: LiteralMap | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!inputs) return out;
  const variables = template.interface?.inputs?.variables ?? {};
  for (const [name, lit] of Object.entries(inputs.literals)) {
    out[name] = literalToJs(lit, variables[name]?.type);
  }
  return out;
}

/**
 * Output values to literals: with the agent's declared output schemas when it has them, else with the
 * template's output types (CreateTask/ExecuteTaskSync carry the template), else inferred from values.
 */
export function encodeOutputs(
  values: Record<string, unknown>,
  outputTypes: Readonly<Record<string, z.ZodType>> | undefined,
  template: TaskTemplate | undefined,
): LiteralMap {
  if (outputTypes) return toLiteralMap(outputTypes, values as never, { label: "output" });
  const variables = template?.interface?.outputs?.variables ?? {};
  const literals: Record<string, Literal> = {};
  for (const [name, value] of Object.entries(values)) {
    literals[name] = jsToLiteral(value, variables[name]?.type, name, "output");
  }
  return { literals };
}
