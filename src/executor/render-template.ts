import type { LiteralMap } from "../gen/flyteidl/core/literals.js";
import type { TaskTemplate } from "../gen/flyteidl/core/tasks.js";
import { literalToPlain } from "../types/literal-to-plain.js";

/** The values FlytePropeller substitutes into container args before CreateTask. */
export interface TemplateVariables {
  readonly inputPrefix: string;
  /** `{inputPrefix}/inputs.pb`. */
  readonly inputPath: string;
  readonly outputPrefix: string;
  readonly rawOutputDataPrefix: string;
  readonly perRetryUniqueKey: string;
  readonly taskTemplatePath: string;
  readonly checkpointOutputPrefix: string;
  readonly prevCheckpointPrefix: string;
  readonly namespace: string;
  readonly inputs: LiteralMap | undefined;
}

const simple: readonly [RegExp, Exclude<keyof TemplateVariables, "inputs">][] = [
  [/\{\{\s*\.input\s*\}\}/gi, "inputPath"],
  [/\{\{\s*\.inputprefix\s*\}\}/gi, "inputPrefix"],
  [/\{\{\s*\.outputprefix\s*\}\}/gi, "outputPrefix"],
  [/\{\{\s*\.rawoutputdataprefix\s*\}\}/gi, "rawOutputDataPrefix"],
  [/\{\{\s*\.perretryuniquekey\s*\}\}/gi, "perRetryUniqueKey"],
  [/\{\{\s*\.tasktemplatepath\s*\}\}/gi, "taskTemplatePath"],
  [/\{\{\s*\.prevcheckpointprefix\s*\}\}/gi, "prevCheckpointPrefix"],
  [/\{\{\s*\.checkpointoutputprefix\s*\}\}/gi, "checkpointOutputPrefix"],
  [/\{\{\s*\.namespace\s*\}\}/gi, "namespace"],
];

/** Renders one container argument as FlytePropeller does. */
export function renderArg(arg: string, vars: TemplateVariables): string {
  let out = arg;
  for (const [re, key] of simple) out = out.replace(re, () => vars[key]);
  return out.replace(/\{\{\s*\.inputs\.([A-Za-z0-9_]+)\s*\}\}/gi, (whole, name: string) => {
    const lit = vars.inputs?.literals[name];
    if (!lit) return whole;
    const value = literalToPlain(lit);
    if (value instanceof Date) return value.toISOString();
    return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
  });
}

/** A copy of `template` whose container args (and command) are rendered. */
export function renderTemplate(template: TaskTemplate, vars: TemplateVariables): TaskTemplate {
  if (!template.container) return template;
  return {
    ...template,
    container: {
      ...template.container,
      command: template.container.command.map((a) => renderArg(a, vars)),
      args: template.container.args.map((a) => renderArg(a, vars)),
    },
  };
}
