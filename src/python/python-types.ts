import { z } from "zod";
import type { JsonValue } from "@flyte-agent/runtime/internal/task/define-task.js";
import { BlobDimensionality } from "@flyte-agent/runtime/internal/types/flyte-schemas.js";
import { schemaKind, type AnySchema } from "@flyte-agent/runtime/internal/types/schema-kind.js";

/** Python's reserved words: never a generated identifier. */
const PY_KEYWORDS = new Set(
  (
    "False None True and as assert async await break class continue def del elif else except finally for " +
    "from global if import in is lambda nonlocal not or pass raise return try while with yield"
  ).split(" "),
);

/** `words like-this.or_that` → `WordsLikeThisOrThat`. */
export function pascalCase(text: string): string {
  const words = text
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== "");
  const joined = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
  return /^[0-9]/.test(joined) ? `T${joined}` : joined || "Unnamed";
}

/** `durationSeconds` / `duration-seconds` → `duration_seconds`, never a Python keyword. */
export function snakeCase(text: string): string {
  const snake = text
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .toLowerCase();
  const id = /^[0-9]/.test(snake) ? `_${snake}` : snake || "value";
  return PY_KEYWORDS.has(id) ? `${id}_` : id;
}

/** A Python string literal. */
export function pyString(text: string): string {
  // JSON's escapes (\", \\, \n, \uXXXX) are all valid in a Python string literal.
  return JSON.stringify(text);
}

/** A JSON value as a Python literal. */
export function pyLiteral(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value) : "None";
  if (typeof value === "string") return pyString(value);
  if (Array.isArray(value)) return `[${value.map((v) => pyLiteral(v as JsonValue)).join(", ")}]`;
  const entries = Object.entries(value as Record<string, JsonValue>);
  return `{${entries.map(([k, v]) => `${pyString(k)}: ${pyLiteral(v)}`).join(", ")}}`;
}

/** Declarations the Python types need: dataclasses and enums, written once each, before their use. */
export class PythonDeclarations {
  readonly blocks: string[] = [];
  readonly imports = new Set<string>();
  readonly #names = new Set<string>();

  /** A fresh class name based on `base`. */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 2; this.#names.has(name); i++) name = `${base}${i}`;
    this.#names.add(name);
    return name;
  }
}

/** The Python value of a default, when it can be written as a literal. */
function defaultLiteral(schema: AnySchema): { ok: boolean; text: string } {
  const parsed = z.safeParse(schema as z.ZodType, undefined);
  if (!parsed.success) return { ok: false, text: "" };
  const value: unknown = parsed.data;
  if (value === undefined || value === null) return { ok: true, text: "None" };
  if (
    ["string", "number", "boolean"].includes(typeof value) ||
    Array.isArray(value) ||
    typeof value === "object"
  ) {
    try {
      return { ok: true, text: pyLiteral(JSON.parse(JSON.stringify(value)) as JsonValue) };
    } catch {
      return { ok: false, text: "" };
    }
  }
  return { ok: false, text: "" };
}

/** Whether a schema accepts no value (then the Python side gets a default of None). */
export function pythonDefault(schema: AnySchema): string | undefined {
  const kind = schemaKind(schema);
  if (kind.kind === "default") {
    const d = defaultLiteral(schema);
    return d.ok ? d.text : undefined;
  }
  if (kind.kind === "union" && kind.nullable) return "None";
  return undefined;
}

/**
 * The Python type flytekit's type engine maps to the same Flyte type as `schema`:
 * int, float, str, bool, datetime.datetime, datetime.timedelta, None, typing.List/Dict/Union/Optional,
 * an enum.Enum subclass for enums, a @dataclass for objects, FlyteFile/FlyteDirectory for blobs,
 * and StructuredDataset (annotated with its columns and format) for datasets.
 */
export function pythonType(schema: AnySchema, name: string, decl: PythonDeclarations): string {
  const kind = schemaKind(schema);
  switch (kind.kind) {
    case "integer":
    case "int64":
      return "int";
    case "float":
      return "float";
    case "string":
      return "str";
    case "boolean":
      return "bool";
    case "datetime":
      decl.imports.add("import datetime");
      return "datetime.datetime";
    case "duration":
      decl.imports.add("import datetime");
      return "datetime.timedelta";
    case "none":
      return "None";
    case "default":
      return pythonType(kind.inner, name, decl);
    case "list":
      decl.imports.add("import typing");
      return `typing.List[${pythonType(kind.item, `${name}Item`, decl)}]`;
    case "map":
      decl.imports.add("import typing");
      return `typing.Dict[str, ${pythonType(kind.value, `${name}Value`, decl)}]`;
    case "union": {
      decl.imports.add("import typing");
      const variants = kind.variants.map((v, i) =>
        pythonType(v, kind.variants.length > 1 ? `${name}${i + 1}` : name, decl),
      );
      const inner = variants.length === 1 ? variants[0]! : `typing.Union[${variants.join(", ")}]`;
      return kind.nullable ? `typing.Optional[${inner}]` : inner;
    }
    case "enum": {
      decl.imports.add("import enum");
      const cls = decl.uniqueName(name);
      const used = new Set<string>();
      const members = kind.values.map((v) => {
        let member = snakeCase(v).toUpperCase() || "VALUE";
        if (/^[0-9_]/.test(member)) member = `V${member}`;
        while (used.has(member)) member = `${member}_`;
        used.add(member);
        return `    ${member} = ${pyString(v)}`;
      });
      decl.blocks.push(`class ${cls}(enum.Enum):\n${members.join("\n")}\n`);
      return cls;
    }
    case "struct": {
      decl.imports.add("from dataclasses import dataclass");
      const cls = decl.uniqueName(name);
      const fields = Object.entries(kind.shape).map(([field, s]) => {
        const type = pythonType(s, `${cls}${pascalCase(field)}`, decl);
        const dflt = pythonDefault(s);
        return { field, type, dflt };
      });
      // Fields without a default come first, as dataclasses require.
      fields.sort((a, b) => Number(a.dflt !== undefined) - Number(b.dflt !== undefined));
      const lines = fields.map(({ field, type, dflt }) => {
        const id =
          /^[A-Za-z_][A-Za-z0-9_]*$/.test(field) && !PY_KEYWORDS.has(field) ? field : snakeCase(field);
        const isMutable = dflt !== undefined && (dflt.startsWith("[") || dflt.startsWith("{"));
        if (isMutable) decl.imports.add("from dataclasses import field as dataclass_field");
        const value =
          dflt === undefined
            ? ""
            : isMutable
              ? ` = dataclass_field(default_factory=lambda: ${dflt})`
              : ` = ${dflt}`;
        return `    ${id}: ${type}${value}`;
      });
      decl.blocks.push(`@dataclass\nclass ${cls}:\n${lines.length ? lines.join("\n") : "    pass"}\n`);
      return cls;
    }
    case "blob":
      if (kind.dimensionality === BlobDimensionality.SINGLE) {
        decl.imports.add("from flytekit.types.file import FlyteFile");
        return kind.format ? `FlyteFile[${pyString(kind.format)}]` : "FlyteFile";
      }
      decl.imports.add("from flytekit.types.directory import FlyteDirectory");
      return kind.format ? `FlyteDirectory[${pyString(kind.format)}]` : "FlyteDirectory";
    case "structured-dataset": {
      decl.imports.add("import typing");
      decl.imports.add("from flytekit import kwtypes");
      decl.imports.add("from flytekit.types.structured import StructuredDataset");
      const cols = Object.entries(kind.columns).map(
        ([c, s]) =>
          `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(c) ? c : snakeCase(c)}=${pythonType(s, `${name}${pascalCase(c)}`, decl)}`,
      );
      // flytekit reads the columns (an OrderedDict from kwtypes) and the format (a str) from the
      // Annotated arguments: flytekit/types/structured/structured_dataset.py extract_cols_and_format.
      return `typing.Annotated[StructuredDataset, kwtypes(${cols.join(", ")}), ${pyString(kind.format)}]`;
    }
  }
}

/** The Python type of a JSON config value (as given in the TS definition). */
export function configType(value: JsonValue): string {
  if (value === null) return "typing.Any";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (typeof value === "string") return "str";
  if (Array.isArray(value)) {
    const types = [...new Set(value.map((v) => configType(v as JsonValue)))];
    return `typing.List[${types.length === 1 ? types[0]! : "typing.Any"}]`;
  }
  return "typing.Dict[str, typing.Any]";
}
