import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { ErrorCode, FlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";
import { LiteralMap } from "@flyte-agent/runtime/internal/gen/flyteidl/core/literals.js";
import { TypeTransformError } from "@flyte-agent/runtime/internal/types/errors.js";
import { parseInputString } from "@flyte-agent/runtime/internal/types/parse-input.js";
import type { TaskDefinition } from "@flyte-agent/runtime/internal/task/define-task.js";

function bad(message: string, cause?: unknown): never {
  throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, message, cause === undefined ? undefined : { cause });
}

function isOptional(schema: z.ZodType): boolean {
  return schema.safeParse(undefined).success;
}

/** Checks a LiteralMap's names (and, where the types are known, its values) against the task's interface. */
function checkLiteralMap(task: TaskDefinition, map: LiteralMap, file: string): LiteralMap {
  const variables = task.interface().inputs?.variables ?? {};
  const names = Object.keys(variables);
  const unknown = Object.keys(map.literals).filter((n) => !(n in variables));
  if (unknown.length > 0) {
    bad(
      `${file} has ${unknown.map((n) => `"${n}"`).join(", ")}, which task ${task.name} does not take (its inputs: ${names.join(", ") || "none"})`,
    );
  }
  const schemas = task.inputs as Record<string, z.ZodType>;
  const missing = names.filter(
    (n) => !(n in map.literals) && !(schemas[n] !== undefined && isOptional(schemas[n])),
  );
  if (missing.length > 0) bad(`${file} lacks input ${missing.sort().join(", ")} of task ${task.name}`);
  try {
    task.decodeInputs(map);
  } catch (err) {
    if (err instanceof TypeTransformError)
      bad(`${file} does not match task ${task.name}: ${err.message}`, err);
    // A type the engine has no value form for: the map goes through unchecked, as bytes.
    if (!(err instanceof FlyteAgentError)) throw err;
  }
  return map;
}

/** protobuf's JSON form writes a Duration as `"300s"`; the generated reader wants `{seconds, nanos}`. */
function durationsToObjects(value: unknown, key = ""): unknown {
  if (typeof value === "string" && key === "duration") {
    const m = /^(-?)(\d+)(?:\.(\d{1,9}))?s$/.exec(value);
    if (!m) return value;
    const sign = m[1] === "-" ? -1 : 1;
    return { seconds: String(sign * Number(m[2])), nanos: sign * Number((m[3] ?? "").padEnd(9, "0")) };
  }
  if (Array.isArray(value)) return value.map((v) => durationsToObjects(v));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, durationsToObjects(v, k)]));
  return value;
}

/**
 * Reads a task's inputs from a file, typed by the task's interface:
 * - `.pb`: a serialized `flyteidl.core.LiteralMap` (an `inputs.pb` as Flyte writes it), sent as is;
 * - `.json` / `.yaml`: either a LiteralMap in protobuf's JSON form (`{"literals": {...}}`), or plain
 *   values by input name, each read as its `--<input>` flag would be (`{"day": "2024-05-01", "limit": 10}`).
 *
 * @returns the LiteralMap to send.
 * @throws FlyteAgentError (`INVALID_CONFIG`) with one sentence for an unreadable or malformed file,
 *   or inputs that do not match the interface.
 */
export async function readInputsFile(
  task: TaskDefinition,
  file: string,
  options: { readonly cwd?: string } = {},
): Promise<LiteralMap> {
  const path = resolve(options.cwd ?? process.cwd(), file);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return bad(`cannot read --inputs ${file}`);
  }
  const lower = file.toLowerCase();
  if (lower.endsWith(".pb")) {
    let map: LiteralMap;
    try {
      map = LiteralMap.decode(bytes);
    } catch (err) {
      return bad(`${file} is not a protobuf LiteralMap (${(err as Error).message})`, err);
    }
    return checkLiteralMap(task, map, file);
  }
  const isYaml = lower.endsWith(".yaml") || lower.endsWith(".yml");
  if (!isYaml && !lower.endsWith(".json")) bad(`--inputs takes a .pb, .json or .yaml file, got ${file}`);
  let json: unknown;
  try {
    json = isYaml ? parseYaml(bytes.toString("utf8")) : JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    const first = (err as Error).message.split("\n", 1)[0];
    return bad(`${file} is not valid ${isYaml ? "YAML" : "JSON"}: ${first}`, err);
  }
  if (!json || typeof json !== "object" || Array.isArray(json))
    bad(`${file} must hold an object of inputs by name`);
  const record = json as Record<string, unknown>;
  const keys = Object.keys(record);
  const variables = task.interface().inputs?.variables ?? {};
  const literalJson =
    keys.length === 1 &&
    keys[0] === "literals" &&
    !("literals" in variables) &&
    record.literals !== null &&
    typeof record.literals === "object";
  if (literalJson) {
    let map: LiteralMap;
    try {
      map = LiteralMap.fromJSON(durationsToObjects(record));
    } catch (err) {
      return bad(`${file} is not a protobuf-JSON LiteralMap (${(err as Error).message})`, err);
    }
    return checkLiteralMap(task, map, file);
  }
  const schemas = task.inputs as Record<string, z.ZodType>;
  const values: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(record)) {
    const schema = schemas[name];
    if (!schema) {
      bad(
        `${file} has "${name}", which task ${task.name} does not take (its inputs: ${Object.keys(variables).join(", ") || "none"})`,
      );
    }
    if (raw === undefined) continue;
    const text = typeof raw === "string" ? raw : JSON.stringify(raw);
    try {
      values[name] = parseInputString(schema, text, name, { cwd: dirname(path) });
    } catch (err) {
      if (err instanceof TypeTransformError) bad(`${file}: ${err.message}`, err);
      throw err;
    }
  }
  try {
    return task.encodeInputs(values);
  } catch (err) {
    if (err instanceof TypeTransformError) bad(`${file}: ${err.message}`, err);
    throw err;
  }
}
