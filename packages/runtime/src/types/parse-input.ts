import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { parseDuration } from "./duration.js";
import { childPath, describeValue, indexPath, TypeTransformError } from "./errors.js";
import { describeType } from "./literal-type.js";
import { parsePreciseIso } from "./precise-date.js";
import { fromStructValue } from "./struct-value.js";
import { schemaKind, type AnySchema } from "./schema-kind.js";

interface Site {
  readonly path: string;
  readonly label: string;
}

const TRUE_WORDS = new Set(["true", "1", "yes", "y", "on"]);
const FALSE_WORDS = new Set(["false", "0", "no", "n", "off"]);
const NONE_WORDS = new Set(["", "none", "null"]);

function fail(site: Site, detail: string): never {
  throw new TypeTransformError(site.path, detail, { label: site.label });
}

/** A location for a blob or dataset: URIs (`s3://…`, `file://…`) as given, local paths made absolute. */
function toUri(text: string, cwd: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || isAbsolute(text)) return text;
  return resolve(cwd, text);
}

function parseScalarText(schema: AnySchema, raw: string, site: Site, cwd: string): unknown {
  const kind = schemaKind(schema, site.path, site.label);
  const bad = (): never => fail(site, `expected ${describeType(schema)}, got ${JSON.stringify(raw)}`);
  const text = raw.trim();
  switch (kind.kind) {
    case "integer":
      return /^[+-]?\d+$/.test(text) ? Number(text) : bad();
    case "int64":
      return /^[+-]?\d+$/.test(text) ? BigInt(text) : bad();
    case "float": {
      const n = text === "" ? Number.NaN : Number(text);
      return Number.isNaN(n) ? bad() : n;
    }
    case "string":
      return raw;
    case "boolean": {
      const word = text.toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      return bad();
    }
    case "datetime": {
      // ISO text keeps all its fractional digits (flytekit datetimes carry microseconds).
      const date = text === "now" ? new Date() : (parsePreciseIso(text) ?? new Date(text));
      return Number.isNaN(date.getTime()) ? bad() : date;
    }
    case "duration":
      return parseDuration(text) ?? bad();
    case "none":
      return NONE_WORDS.has(text.toLowerCase()) ? null : bad();
    case "enum":
      return kind.values.includes(text)
        ? text
        : fail(site, `expected one of ${kind.values.join(", ")}, got ${JSON.stringify(raw)}`);
    case "struct":
    case "list":
    case "map": {
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        return fail(site, `expected ${describeType(schema)} as JSON, got ${JSON.stringify(raw)}`);
      }
      return fromJson(schema, json, site, cwd);
    }
    case "union": {
      if (kind.nullable && NONE_WORDS.has(text.toLowerCase())) return kind.absent;
      let firstError: TypeTransformError | undefined;
      for (const variant of kind.variants) {
        try {
          const value = parseScalarText(variant, raw, site, cwd);
          if (z.safeParse(variant, value).success) return value;
        } catch (err) {
          if (!(err instanceof TypeTransformError)) throw err;
          firstError ??= err;
        }
      }
      if (kind.variants.length === 1 && firstError) throw firstError;
      return bad();
    }
    case "default":
      return parseScalarText(kind.inner, raw, site, cwd);
    case "blob":
      return text === "" ? bad() : { uri: toUri(text, cwd) };
    case "structured-dataset":
      return text === "" ? bad() : { uri: toUri(text, cwd) };
  }
}

/** Turns parsed JSON into the JS values a schema wants (ISO strings → Date, numbers → bigint, …). */
function fromJson(schema: AnySchema, json: unknown, site: Site, cwd: string): unknown {
  const kind = schemaKind(schema, site.path, site.label);
  switch (kind.kind) {
    case "list":
      if (!Array.isArray(json))
        return fail(site, `expected ${describeType(schema)}, got ${describeValue(json)}`);
      return json.map((item, i) =>
        fromJson(kind.item, item, { ...site, path: indexPath(site.path, i) }, cwd),
      );
    case "map": {
      if (typeof json !== "object" || json === null || Array.isArray(json)) {
        return fail(site, `expected ${describeType(schema)}, got ${describeValue(json)}`);
      }
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(json)) {
        out[key] = fromJson(kind.value, item, { ...site, path: childPath(site.path, key) }, cwd);
      }
      return out;
    }
    case "int64":
      return typeof json === "number" && Number.isInteger(json)
        ? BigInt(json)
        : typeof json === "string"
          ? parseScalarText(schema, json, site, cwd)
          : json;
    case "datetime":
    case "duration":
    case "blob":
    case "structured-dataset":
      return typeof json === "string" ? parseScalarText(schema, json, site, cwd) : json;
    case "union": {
      if (json === null) return kind.absent;
      for (const variant of kind.variants) {
        try {
          const value = fromJson(variant, json, site, cwd);
          if (z.safeParse(variant, value).success) return value;
        } catch (err) {
          if (!(err instanceof TypeTransformError)) throw err;
        }
      }
      return json;
    }
    case "default":
      return fromJson(kind.inner, json, site, cwd);
    case "struct":
      // Fields take the JSON forms they have inside a flytekit dataclass (ISO datetimes, ...).
      return fromStructValue(schema, json, site.path);
    default:
      return json;
  }
}

/** Options of {@link parseInputString}. */
export interface ParseInputOptions {
  /** Directory that relative file and dataset paths are resolved against. @default process.cwd() */
  cwd?: string;
  /** What the name is, for messages. @default "input" */
  label?: string;
}

/**
 * Parses a command-line string into a value of the schema (for `flyte-agent run task.ts --rows 10`).
 *
 * - ints (`42`, `-7`; `bigint` for `z.bigint()`), floats (`1.5`, `1e3`);
 * - booleans: `true/false`, `1/0`, `yes/no`, `y/n`, `on/off` (any case);
 * - datetimes: ISO 8601 (`2024-05-01T12:00:00Z`) or `now`;
 * - durations: `10s`, `5m`, `1h30m`, `250ms`; a bare number is seconds;
 * - enums: one of the values; optionals: `none`, `null` or an empty string for no value;
 * - lists, maps and objects: JSON (`[1,2]`, `{"a":1}`), with dates and durations as strings inside;
 * - files, directories and datasets: a URI, or a local path made absolute.
 *
 * The result is validated with the schema (so refinements and defaults apply).
 *
 * @throws TypeTransformError naming the input.
 */
export function parseInputString<S extends AnySchema>(
  schema: S,
  raw: string,
  name: string,
  options: ParseInputOptions = {},
): z.output<S> {
  const site = { path: name, label: options.label ?? "input" };
  const value = parseScalarText(schema, raw, site, options.cwd ?? process.cwd());
  const parsed = z.safeParse(schema, value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    let path = name;
    for (const key of issue?.path ?? []) {
      path = typeof key === "number" ? indexPath(path, key) : childPath(path, String(key));
    }
    throw new TypeTransformError(path, issue?.message ?? "invalid value", { label: site.label });
  }
  return parsed.data;
}
