import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { parse as parseYaml } from "yaml";
import { ErrorCode, FlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";
import { Task, TaskSpec } from "@flyte-agent/runtime/internal/gen/flyteidl/admin/task.js";
import { TaskTemplate } from "@flyte-agent/runtime/internal/gen/flyteidl/core/tasks.js";
import { readTar, TarError } from "./tar.js";

/** The forms a Python-declared task can be read from. */
export const TaskSpecFormat = {
  /** The `.tgz` that `pyflyte package` writes. */
  PACKAGE: "package",
  /** One serialized `flyteidl.admin.TaskSpec` or `flyteidl.core.TaskTemplate` (`.pb`). */
  PROTOBUF: "protobuf",
  /** What `flytectl get task ... -o json` prints (protobuf JSON of `admin.Task`), or a TaskSpec/TaskTemplate in JSON. */
  JSON: "json",
  /** What `flytectl get task ... -o yaml` prints. */
  YAML: "yaml",
} as const;
export type TaskSpecFormat = (typeof TaskSpecFormat)[keyof typeof TaskSpecFormat];

/** One task found in a file. */
export interface TaskSpecEntry {
  /** `TaskTemplate.id.name`, e.g. `my_pkg.tasks.query`. */
  readonly name: string;
  /** The template exactly as written. */
  readonly template: TaskTemplate;
  /** `TaskSpec.description.short_description` or `Task.short_description`, when there is one. */
  readonly description: string | undefined;
  /** Where in the file it was found (the archive member, or the file itself). */
  readonly origin: string;
}

/** What {@link loadTaskSpecFile} found. */
export interface LoadedTaskSpecs {
  readonly path: string;
  readonly format: TaskSpecFormat;
  readonly tasks: readonly TaskSpecEntry[];
}

const PACKAGE_SUFFIXES = [".tgz", ".tar.gz", ".tar"];

/** The format a path's extension names, or undefined when it is not one of them (e.g. a `.ts` task file). */
export function taskSpecFormatOf(file: string): TaskSpecFormat | undefined {
  const lower = file.toLowerCase();
  if (PACKAGE_SUFFIXES.some((s) => lower.endsWith(s))) return TaskSpecFormat.PACKAGE;
  if (lower.endsWith(".pb")) return TaskSpecFormat.PROTOBUF;
  if (lower.endsWith(".json")) return TaskSpecFormat.JSON;
  if (lower.endsWith(".yaml") || lower.endsWith(".yml")) return TaskSpecFormat.YAML;
  return undefined;
}

function bad(message: string, cause?: unknown): never {
  throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, message, cause === undefined ? undefined : { cause });
}

/** The top-level fields of a protobuf message as (field number, wire type), or undefined when malformed. */
function wireFields(bytes: Uint8Array): { no: number; wire: number; payload?: Uint8Array }[] | undefined {
  const reader = new BinaryReader(bytes);
  const fields: { no: number; wire: number; payload?: Uint8Array }[] = [];
  try {
    while (reader.pos < reader.len) {
      const [no, wire] = reader.tag();
      if (no <= 0) return undefined;
      if (wire === WireType.LengthDelimited) fields.push({ no, wire, payload: reader.bytes() });
      else {
        reader.skip(wire, no);
        fields.push({ no, wire });
      }
    }
  } catch {
    return undefined;
  }
  return fields;
}

// Field numbers and wire types of flyteidl/core/tasks.proto TaskTemplate (7 is the varint
// task_type_version; every other field is a message, string or map entry) and of
// flyteidl/core/identifier.proto Identifier (1 is the varint resource_type).
const TEMPLATE_FIELDS = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 18]);
const IDENTIFIER_FIELDS = new Set([1, 2, 3, 4, 5, 6]);

function looksLikeIdentifier(bytes: Uint8Array | undefined): boolean {
  const fields = bytes && wireFields(bytes);
  return !!fields && fields.every((f) => IDENTIFIER_FIELDS.has(f.no) && (f.no === 1) === (f.wire === 0));
}

function looksLikeTemplate(bytes: Uint8Array | undefined): boolean {
  const fields = bytes && wireFields(bytes);
  if (!fields || !fields.some((f) => f.no === 2)) return false;
  return fields.every(
    (f) =>
      TEMPLATE_FIELDS.has(f.no) &&
      (f.no === 7) === (f.wire === 0) &&
      (f.no !== 1 || looksLikeIdentifier(f.payload)),
  );
}

/**
 * Decodes a serialized `admin.TaskSpec` (what `pyflyte package` writes per task) or a bare
 * `core.TaskTemplate`. Both begin with a length-delimited field 1, so the shape decides: a TaskSpec has
 * only fields 1 (a TaskTemplate) and 2 (a DescriptionEntity); a TaskTemplate's field 1 is an
 * Identifier and its field 2 the task type.
 * @throws FlyteAgentError (`INVALID_CONFIG`) when the bytes are neither.
 */
export function decodeTaskSpecBytes(
  bytes: Uint8Array,
  label: string,
): { template: TaskTemplate; description: string | undefined } {
  const fields = wireFields(bytes);
  if (!fields || fields.length === 0) bad(`${label} is not a protobuf TaskSpec or TaskTemplate`);
  const first = fields.find((f) => f.no === 1);
  const isSpec =
    fields.every((f) => (f.no === 1 || f.no === 2) && f.wire === 2) && looksLikeTemplate(first?.payload);
  try {
    if (isSpec) {
      const spec = TaskSpec.decode(bytes);
      if (spec.template?.type)
        return { template: spec.template, description: spec.description?.shortDescription || undefined };
    } else if (looksLikeTemplate(bytes)) {
      const template = TaskTemplate.decode(bytes);
      if (template.type) return { template, description: undefined };
    }
  } catch (err) {
    bad(`${label} is not a valid protobuf TaskSpec or TaskTemplate (${(err as Error).message})`, err);
  }
  return bad(`${label} is not a protobuf TaskSpec or TaskTemplate with a task type`);
}

/** `pyflyte package` names task files `<index>_<task name>_1.pb` (workflows `_2`, launch plans `_3`). */
const TASK_MEMBER = /^(?:.*\/)?\d+_(.+)_1\.pb$/;

function fromPackage(bytes: Uint8Array, file: string): TaskSpecEntry[] {
  let members;
  try {
    members = readTar(bytes);
  } catch (err) {
    if (err instanceof TarError) bad(`${file} is not a pyflyte package archive: ${err.message}`, err);
    throw err;
  }
  const tasks: TaskSpecEntry[] = [];
  for (const m of members) {
    if (!TASK_MEMBER.test(m.name)) continue;
    const { template, description } = decodeTaskSpecBytes(m.data, `${file}:${m.name}`);
    tasks.push({ name: template.id?.name || template.type, template, description, origin: m.name });
  }
  if (tasks.length === 0) {
    const held = members.map((m) => m.name);
    bad(
      `${file} holds no task (pyflyte package writes each task as <n>_<name>_1.pb; it holds ${
        held.length ? held.slice(0, 10).join(", ") + (held.length > 10 ? ", …" : "") : "no files"
      })`,
    );
  }
  return tasks;
}

/** protobuf's JSON form writes a Duration as `"300s"`; the generated readers want `{seconds, nanos}`. */
function durationsToObjects(value: unknown, key = ""): unknown {
  if (typeof value === "string" && (key === "timeout" || key === "duration")) {
    const m = /^(-?)(\d+)(?:\.(\d{1,9}))?s$/.exec(value);
    if (!m) return value;
    const sign = m[1] === "-" ? -1 : 1;
    return { seconds: String(sign * Number(m[2])), nanos: sign * Number((m[3] ?? "").padEnd(9, "0")) };
  }
  if (Array.isArray(value)) return value.map((v) => durationsToObjects(v));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, durationsToObjects(v, k)]));
  }
  return value;
}

/**
 * Reads a protobuf-JSON value (parsed), as `flytectl get task -o json|yaml` prints it: one `admin.Task`
 * or a list of them (flytectl's printer prints a list when several versions match). A TaskSpec
 * (`{template: ...}`) or a bare TaskTemplate (`{id, type, interface, ...}`) is accepted too.
 */
function fromProtoJson(json: unknown, file: string): TaskSpecEntry[] {
  const items = Array.isArray(json) ? json : [json];
  const tasks: TaskSpecEntry[] = [];
  items.forEach((raw, i) => {
    const where = items.length > 1 ? `${file}[${i}]` : file;
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) bad(`${where} is not a task object`);
    const item = durationsToObjects(raw) as Record<string, unknown>;
    let template: TaskTemplate;
    let description: string | undefined;
    if ("closure" in item) {
      const task = Task.fromJSON(item);
      template = task.closure?.compiledTask?.template ?? TaskTemplate.fromPartial({});
      description = task.shortDescription || undefined;
    } else if ("template" in item) {
      const spec = TaskSpec.fromJSON(item);
      template = spec.template ?? TaskTemplate.fromPartial({});
      description = spec.description?.shortDescription || undefined;
    } else {
      template = TaskTemplate.fromJSON(item);
    }
    if (!template.type) {
      bad(
        `${where} holds no task template (expected flytectl's admin.Task with closure.compiledTask.template, a TaskSpec or a TaskTemplate)`,
      );
    }
    tasks.push({ name: template.id?.name || template.type, template, description, origin: where });
  });
  if (tasks.length === 0) bad(`${file} holds no task`);
  return tasks;
}

/**
 * Reads the tasks a Python project declared, from `pyflyte package` output (a `.tgz` of
 * `admin.TaskSpec` files), one `.pb` (`admin.TaskSpec` or `core.TaskTemplate`), or the JSON/YAML that
 * `flytectl get task ... -o json|yaml` prints.
 * @throws FlyteAgentError (`INVALID_CONFIG`) with one sentence for a missing, malformed or task-less file.
 */
export async function loadTaskSpecFile(
  file: string,
  options: { readonly cwd?: string; readonly format?: TaskSpecFormat } = {},
): Promise<LoadedTaskSpecs> {
  const path = resolve(options.cwd ?? process.cwd(), file);
  const format = options.format ?? taskSpecFormatOf(file);
  if (!format) bad(`${file} is not a task archive (.tgz), protobuf (.pb), JSON or YAML file`);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch {
    return bad(`cannot read ${file}`);
  }
  switch (format) {
    case TaskSpecFormat.PACKAGE:
      return { path, format, tasks: fromPackage(bytes, basename(file)) };
    case TaskSpecFormat.PROTOBUF: {
      const { template, description } = decodeTaskSpecBytes(bytes, file);
      return {
        path,
        format,
        tasks: [{ name: template.id?.name || template.type, template, description, origin: file }],
      };
    }
    case TaskSpecFormat.JSON:
    case TaskSpecFormat.YAML: {
      const text = Buffer.from(bytes).toString("utf8");
      let json: unknown;
      try {
        json = format === TaskSpecFormat.JSON ? JSON.parse(text) : parseYaml(text);
      } catch (err) {
        const first = (err as Error).message.split("\n", 1)[0];
        return bad(`${file} is not valid ${format === TaskSpecFormat.JSON ? "JSON" : "YAML"}: ${first}`, err);
      }
      try {
        return { path, format, tasks: fromProtoJson(json, file) };
      } catch (err) {
        if (err instanceof FlyteAgentError) throw err;
        return bad(`${file} is not a protobuf-JSON task: ${(err as Error).message}`, err);
      }
    }
  }
}

/**
 * Picks a task by its full name (`my_pkg.tasks.query`) or, when unambiguous, by its last part
 * (`query`); with no name, the only task.
 * @throws FlyteAgentError (`INVALID_CONFIG`) listing the tasks there are.
 */
export function pickTaskSpec(loaded: LoadedTaskSpecs, name: string | undefined): TaskSpecEntry {
  const file = basename(loaded.path);
  const names = [...new Set(loaded.tasks.map((t) => t.name))];
  const list = names.join(", ");
  if (name === undefined) {
    if (loaded.tasks.length === 1) return loaded.tasks[0]!;
    bad(`${file} holds ${loaded.tasks.length} tasks; name one of: ${list}`);
  }
  const exact = loaded.tasks.filter((t) => t.name === name);
  const hits = exact.length > 0 ? exact : loaded.tasks.filter((t) => t.name.split(".").pop() === name);
  if (hits.length === 0) bad(`no task named "${name}" in ${file}; it holds: ${list}`);
  const distinct = new Set(hits.map((t) => t.name));
  if (distinct.size > 1) bad(`"${name}" matches ${[...distinct].join(", ")} in ${file}; name one in full`);
  // flytectl prints every version when none is asked for; like its own --execFile
  // (flytectl/cmd/get/task.go, FetchTaskForName: "Only write the first task"), take the first.
  return hits[0]!;
}
