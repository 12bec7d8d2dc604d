import type { z } from "zod";
import { isFlyteAgentError } from "../core/errors.js";
import { type LiteralMap, Literal } from "../gen/flyteidl/core/literals.js";
import type { TaskTemplate } from "../gen/flyteidl/core/tasks.js";
import { TypeTransformError } from "./errors.js";
import { literalToPlain } from "./literal-to-plain.js";
import { toLiteralMap } from "./literal.js";
import { plainToLiteral } from "./plain-to-literal.js";

/** Inputs as plain values, typed by the template's interface where it declares them. */
export function decodeInputs(
  template: TaskTemplate,
  inputs: LiteralMap | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!inputs) return out;
  const variables = template.interface?.inputs?.variables ?? {};
  for (const [name, lit] of Object.entries(inputs.literals)) {
    out[name] = literalToPlain(lit, variables[name]?.type);
  }
  return out;
}

/**
 * Output values to literals: with the agent's declared output schemas when it has them, else with the
 * template's output types (CreateTask/ExecuteTaskSync carry the template), else inferred from values.
 * @throws TypeTransformError naming the output when a value cannot become a literal that encodes
 * (a duration past int64 seconds, NaN where a duration is declared, a bigint inside a struct), so
 * the call fails with a clear status instead of grpc-js's bare "Error serializing response".
 * With `check: false` each literal is not test-encoded: for a caller that encodes the answer itself
 * and calls {@link checkOutputsEncode} only when that fails, so outputs are encoded once.
 */
export function encodeOutputs(
  values: Record<string, unknown>,
  outputTypes: Readonly<Record<string, z.ZodType>> | undefined,
  template: TaskTemplate | undefined,
  options: { readonly check?: boolean } = {},
): LiteralMap {
  const check = options.check ?? true;
  if (outputTypes) {
    const map = convert("outputs", () => toLiteralMap(outputTypes, values as never, { label: "output" }));
    if (check) checkOutputsEncode(map);
    return map;
  }
  const variables = template?.interface?.outputs?.variables ?? {};
  const literals: Record<string, Literal> = {};
  for (const [name, value] of Object.entries(values)) {
    const literal = convert(name, () => plainToLiteral(value, variables[name]?.type, name, "output"));
    literals[name] = check ? checkEncodes(name, literal) : literal;
  }
  return { literals };
}

/** @throws TypeTransformError naming the first output literal of `map` that does not encode. */
export function checkOutputsEncode(map: LiteralMap): void {
  for (const [name, lit] of Object.entries(map.literals)) checkEncodes(name, lit);
}

/** Runs a conversion, turning the type engine's unexpected throws into a typed error naming `path`. */
function convert<T>(path: string, build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (isFlyteAgentError(err)) throw err;
    throw new TypeTransformError(path, `cannot be converted to a literal: ${messageOf(err)}`, {
      label: "output",
      cause: err,
    });
  }
}

function checkEncodes(name: string, lit: Literal): Literal {
  try {
    Literal.encode(lit);
  } catch (err) {
    throw new TypeTransformError(name, `does not fit its protobuf type: ${messageOf(err)}`, {
      label: "output",
      cause: err,
    });
  }
  return lit;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
