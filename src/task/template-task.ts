import { z } from "zod";
import { ErrorCode, FlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";
import { ResourceType } from "@flyte-agent/runtime/internal/gen/flyteidl/core/identifier.js";
import type {
  TypedInterface,
  VariableMap,
} from "@flyte-agent/runtime/internal/gen/flyteidl/core/interface.js";
import { Literal, type LiteralMap } from "@flyte-agent/runtime/internal/gen/flyteidl/core/literals.js";
import { TaskTemplate } from "@flyte-agent/runtime/internal/gen/flyteidl/core/tasks.js";
import {
  BlobType_BlobDimensionality,
  type LiteralType,
  SimpleType,
} from "@flyte-agent/runtime/internal/gen/flyteidl/core/types.js";
import { TypeTransformError } from "@flyte-agent/runtime/internal/types/errors.js";
import { flyte } from "@flyte-agent/runtime/internal/types/flyte-schemas.js";
import {
  fromLiteralMap,
  toLiteralMap,
  type SchemaShape,
} from "@flyte-agent/runtime/internal/types/literal.js";
import {
  TASK_DEFINITION_BRAND,
  type TaskDefinition,
} from "@flyte-agent/runtime/internal/task/define-task.js";

/** A Flyte type the type engine cannot build values of, and why (for messages). */
function unsupported(path: string, what: string, label: string): never {
  throw new TypeTransformError(path, `the Flyte type ${what} cannot be given as a value here`, { label });
}

/**
 * The zod schema whose values have the Flyte type `type`, so a value typed by a Python template's
 * interface goes through the same type engine as a `defineTask` input. The reverse of
 * `toLiteralType`, up to what a `LiteralType` does not say (metadata, annotations, dataclass schemas:
 * a `STRUCT` is any JSON object).
 *
 * @throws TypeTransformError for types with no value form here (binary, error, the legacy schema type).
 */
export function schemaFromLiteralType(
  type: LiteralType | undefined,
  path = "value",
  label = "value",
): z.ZodType {
  if (!type) return unsupported(path, "(missing)", label);
  if (type.simple !== undefined) {
    switch (type.simple) {
      case SimpleType.INTEGER:
        return z.int();
      case SimpleType.FLOAT:
        return z.number();
      case SimpleType.STRING:
        return z.string();
      case SimpleType.BOOLEAN:
        return z.boolean();
      case SimpleType.DATETIME:
        return z.date();
      case SimpleType.DURATION:
        return flyte.duration();
      case SimpleType.NONE:
        return z.null();
      case SimpleType.STRUCT:
        // flytekit writes dataclasses, dicts and pydantic models as STRUCT; any JSON object is a value.
        return z.looseObject({});
      default:
        return unsupported(path, SimpleType[type.simple] ?? String(type.simple), label);
    }
  }
  if (type.blob) {
    const options = { format: type.blob.format };
    return type.blob.dimensionality === BlobType_BlobDimensionality.MULTIPART
      ? flyte.directory(options)
      : flyte.file(options);
  }
  if (type.collectionType) return z.array(schemaFromLiteralType(type.collectionType, `${path}[]`, label));
  if (type.mapValueType)
    return z.record(z.string(), schemaFromLiteralType(type.mapValueType, `${path}{}`, label));
  if (type.enumType) {
    const [first, ...rest] = type.enumType.values;
    if (first === undefined) return unsupported(path, "enum without values", label);
    return z.enum([first, ...rest]);
  }
  if (type.structuredDatasetType) {
    const columns: Record<string, z.ZodType> = {};
    for (const c of type.structuredDatasetType.columns)
      columns[c.name] = schemaFromLiteralType(c.literalType, `${path}.${c.name}`, label);
    return flyte.structuredDataset({ format: type.structuredDatasetType.format, columns });
  }
  if (type.unionType) {
    const isNone = (t: LiteralType) => t.simple === SimpleType.NONE;
    const variants = type.unionType.variants
      .filter((t) => !isNone(t))
      .map((t) => schemaFromLiteralType(t, path, label));
    const nullable = type.unionType.variants.some(isNone);
    const [first, second, ...rest] = variants;
    if (!first) return nullable ? z.null() : unsupported(path, "union without variants", label);
    const inner = second ? z.union([first, second, ...rest]) : first;
    // Optional[T]: the input may be left out, and is then sent as a none literal.
    return nullable ? inner.optional() : inner;
  }
  if (type.schema) return unsupported(path, "schema (legacy FlyteSchema)", label);
  return unsupported(path, "(unknown)", label);
}

/** What {@link taskFromTemplate} takes besides the template. */
export interface TemplateTaskOptions {
  /** A human description (e.g. `DescriptionEntity.short_description` of a TaskSpec). */
  readonly description?: string;
}

function shapeOf(map: VariableMap | undefined, label: string): { shape: SchemaShape; problem?: string } {
  const shape: Record<string, z.ZodType> = {};
  let problem: string | undefined;
  for (const [name, variable] of Object.entries(map?.variables ?? {})) {
    try {
      shape[name] = schemaFromLiteralType(variable.type, name, label);
    } catch (err) {
      if (!(err instanceof TypeTransformError)) throw err;
      problem ??= err.message;
    }
  }
  return problem === undefined ? { shape } : { shape, problem };
}

function noSchemas(task: string, problem: string): never {
  throw new FlyteAgentError(
    ErrorCode.INVALID_CONFIG,
    `task ${task}: ${problem}; give its inputs as a LiteralMap instead (--inputs inputs.pb)`,
  );
}

/**
 * A task definition made from a `TaskTemplate` written elsewhere (by flytekit, read from
 * `pyflyte package` output or `flytectl get task`), so it runs through the same loop as a `defineTask`
 * task. `template()` returns the template exactly as given (a fresh copy each time); its input and
 * output schemas are derived from the template's interface with {@link schemaFromLiteralType}.
 *
 * @throws FlyteAgentError (`INVALID_TASK_TEMPLATE`) when the template has no task type.
 */
export function taskFromTemplate(template: TaskTemplate, options: TemplateTaskOptions = {}): TaskDefinition {
  const bytes = TaskTemplate.encode(template).finish();
  const name = template.id?.name || template.type;
  if (!template.type) {
    throw new FlyteAgentError(
      ErrorCode.INVALID_TASK_TEMPLATE,
      `task ${name || "(unnamed)"} has no task type`,
    );
  }
  const copy = () => TaskTemplate.decode(bytes);
  const inputs = shapeOf(template.interface?.inputs, "input");
  const outputs = shapeOf(template.interface?.outputs, "output");
  const typedInterface = (): TypedInterface =>
    copy().interface ?? { inputs: { variables: {} }, outputs: { variables: {} } };
  const decodeOutputs = (map: LiteralMap | undefined) => {
    if (outputs.problem === undefined) return fromLiteralMap(outputs.shape, map, { label: "output" });
    // Outputs the type engine has no value form for are shown in protobuf's JSON form.
    return Object.fromEntries(Object.entries(map?.literals ?? {}).map(([k, v]) => [k, Literal.toJSON(v)]));
  };
  return Object.freeze({
    [TASK_DEFINITION_BRAND]: true as const,
    name,
    taskType: template.type,
    taskTypeVersion: template.taskTypeVersion,
    category: Object.freeze({ name: template.type, version: template.taskTypeVersion }),
    description: options.description || undefined,
    inputs: inputs.shape,
    outputs: outputs.shape,
    config: template.custom ?? {},
    id: Object.freeze(
      template.id ?? { resourceType: ResourceType.TASK, project: "", domain: "", name, version: "", org: "" },
    ),
    template: copy,
    interface: typedInterface,
    encodeInputs: (values: Record<string, unknown>) => {
      if (inputs.problem !== undefined) noSchemas(name, inputs.problem);
      return toLiteralMap(inputs.shape, values, { label: "input" });
    },
    decodeInputs: (map: LiteralMap | undefined) => {
      if (inputs.problem !== undefined) noSchemas(name, inputs.problem);
      return fromLiteralMap(inputs.shape, map, { label: "input" });
    },
    encodeOutputs: (values: Record<string, unknown>) => {
      if (outputs.problem !== undefined) noSchemas(name, outputs.problem);
      return toLiteralMap(outputs.shape, values, { label: "output" });
    },
    decodeOutputs,
  });
}
