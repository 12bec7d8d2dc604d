import type { Literal, LiteralMap } from "../gen/flyteidl/core/literals.js";
import type { TaskTemplate } from "../gen/flyteidl/core/tasks.js";
import type { Duration } from "../gen/google/protobuf/duration.js";
import type { Timestamp } from "../gen/google/protobuf/timestamp.js";

/**
 * The values FlytePropeller substitutes into container args before CreateTask
 * (`flyteplugins/go/tasks/pluginmachinery/core/template/template.go:104-135`).
 */
export interface TemplateVariables {
  readonly inputPrefix: string;
  /** `{inputPrefix}/inputs.pb`. */
  readonly inputPath: string;
  readonly outputPrefix: string;
  readonly rawOutputDataPrefix: string;
  /** The task execution's generated name; sanitized here as Propeller does. */
  readonly perRetryUniqueKey: string;
  readonly taskTemplatePath: string;
  readonly checkpointOutputPrefix: string;
  /** The previous attempt's checkpoint prefix, `""` for none (rendered as two quote characters). */
  readonly prevCheckpointPrefix: string;
  readonly namespace: string;
  readonly inputs: LiteralMap | undefined;
}

/** A placeholder that cannot be rendered; Propeller fails the create with it. */
export class TemplateRenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateRenderError";
  }
}

// Case-insensitive, `.` or `$` prefix, spaces inside the braces (`template.go:43-52`).
const placeholder = (name: string) => new RegExp(`\\{\\{\\s*[.$]${name}\\s*\\}\\}`, "gi");
const INPUT = placeholder("Input");
const INPUT_PREFIX = placeholder("InputPrefix");
const OUTPUT_PREFIX = placeholder("OutputPrefix");
const INPUT_VAR = /\{\{\s*[.$]Inputs\.([^}\s]+)\s*\}\}/gi;
const RAW_OUTPUT = placeholder("RawOutputDataPrefix");
const PER_RETRY_KEY = placeholder("PerRetryUniqueKey");
const TASK_TEMPLATE = placeholder("TaskTemplatePath");
const PREV_CHECKPOINT = placeholder("PrevCheckpointPrefix");
const CHECKPOINT = placeholder("CheckpointOutputPrefix");
const NAMESPACE = placeholder("Namespace");

/** `perRetryUniqueKey` as Propeller derives it from the generated name (`template.go:88-90`). */
export function sanitizePerRetryKey(generatedName: string): string {
  return generatedName.replace(/^[^a-zA-Z_]+/, "a").replace(/[^a-zA-Z0-9_]+/g, "_");
}

/**
 * Renders one container argument as `template.go`'s `render` does: the fixed placeholders in its
 * order, namespace last, then `{{.inputs.x}}`.
 * @throws TemplateRenderError for a missing input or a type Propeller cannot render.
 */
export function renderArg(arg: string, vars: TemplateVariables): string {
  let val = arg
    .replace(INPUT, () => vars.inputPath)
    .replace(OUTPUT_PREFIX, () => vars.outputPrefix)
    .replace(INPUT_PREFIX, () => vars.inputPrefix)
    .replace(RAW_OUTPUT, () => vars.rawOutputDataPrefix)
    .replace(PREV_CHECKPOINT, () => vars.prevCheckpointPrefix || '""')
    .replace(CHECKPOINT, () => vars.checkpointOutputPrefix)
    .replace(PER_RETRY_KEY, () => sanitizePerRetryKey(vars.perRetryUniqueKey))
    .replace(TASK_TEMPLATE, () => vars.taskTemplatePath)
    .replace(NAMESPACE, () => vars.namespace);
  const literals = vars.inputs?.literals;
  if (!literals) return val;
  const errors: string[] = [];
  val = val.replace(INPUT_VAR, (whole, name: string) => {
    const literal = literals[name];
    try {
      if (!literal) throw new TemplateRenderError(`requested input is not found [${name}]`);
      return serializeLiteral(literal);
    } catch (err) {
      errors.push(`input template [${whole}]: ${(err as Error).message}`);
      return "";
    }
  });
  // Go's ErrorCollection prints each error as "<index>: <error>\r\n" (`template.go:58-66`).
  if (errors.length > 0) throw new TemplateRenderError(errors.map((e, i) => `${i}: ${e}\r\n`).join(""));
  return val;
}

/**
 * A copy of `template` whose `container.args` are rendered; `command` is left alone, as Propeller
 * renders only args (`flyteplugins/.../webapi/agent/plugin.go:113-129`).
 * @throws TemplateRenderError as {@link renderArg}.
 */
export function renderTemplate(template: TaskTemplate, vars: TemplateVariables): TaskTemplate {
  if (!template.container) return template;
  return {
    ...template,
    container: { ...template.container, args: template.container.args.map((a) => renderArg(a, vars)) },
  };
}

function serializeLiteral(l: Literal): string {
  if (l.collection) return `[${l.collection.literals.map(serializeLiteral).join(",")}]`;
  const s = l.scalar;
  if (s) {
    if (s.primitive) {
      const p = s.primitive;
      if (p.integer !== undefined) return p.integer.toString();
      if (p.boolean !== undefined) return String(p.boolean);
      if (p.datetime !== undefined) return rfc3339Nano(p.datetime);
      if (p.duration !== undefined) return durationText(p.duration);
      if (p.floatValue !== undefined) return goFloat(p.floatValue);
      if (p.stringValue !== undefined) return p.stringValue;
      throw new TemplateRenderError("received an unexpected primitive type [<nil>]");
    }
    if (s.blob) return s.blob.uri;
    if (s.schema) return s.schema.uri;
    if (s.binary) {
      // Propeller prints a msgpack value with Go's %v of the decoded value; not reproduced here.
      throw new TemplateRenderError(
        s.binary.tag === "msgpack"
          ? "msgpack inputs are rendered by FlytePropeller as Go's %v of the decoded value, which flyte-agent does not reproduce"
          : `unsupported binary tag [${s.binary.tag}]`,
      );
    }
    const kind = Object.keys(s).find((k) => (s as Record<string, unknown>)[k] !== undefined) ?? "<nil>";
    throw new TemplateRenderError(`received an unexpected scalar type [${kind}]`);
  }
  throw new TemplateRenderError(`received an unexpected primitive type [${l.map ? "map" : "<nil>"}]`);
}

/** A float as Go's `%v` prints it: shortest digits, exponent form below 1e-4 and from 1e6 (`1e+06`). */
export function goFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const [mantissa, exp] = x.toExponential().split("e") as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 6) return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  return String(x);
}

/** A timestamp as Go's `time.Format(time.RFC3339Nano)` in UTC (trailing zeros of the fraction dropped). */
export function rfc3339Nano(t: Timestamp): string {
  const ms = Number(t.seconds) * 1000;
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = t.nanos ? `.${String(t.nanos).padStart(9, "0").replace(/0+$/, "")}` : "";
  return `${base}${frac}Z`;
}

/** A Duration message as Go's `(*durationpb.Duration).String()` prints it (compact prototext). */
export function durationText(d: Duration): string {
  const parts: string[] = [];
  if (d.seconds !== 0n) parts.push(`seconds:${d.seconds}`);
  if (d.nanos !== 0) parts.push(`nanos:${d.nanos}`);
  return parts.join(" ");
}
