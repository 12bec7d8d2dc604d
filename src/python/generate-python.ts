import { ErrorCode, FlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";
import type { JsonValue, TaskDefinition } from "@flyte-agent/runtime/internal/task/define-task.js";
import { durationToMs } from "@flyte-agent/runtime/internal/types/duration.js";
import type { AnySchema } from "@flyte-agent/runtime/internal/types/schema-kind.js";
import { CLIENT_PY, ENDPOINT_ENV, MIXIN_PY } from "./python-runtime.js";
import {
  configType,
  pascalCase,
  PythonDeclarations,
  pyLiteral,
  pyString,
  pythonDefault,
  pythonType,
  snakeCase,
} from "./python-types.js";

/** What {@link generatePythonPackage} takes besides the tasks. */
export interface PythonPackageOptions {
  /** The Python import name, e.g. `acme_agents` (letters, digits, underscores). */
  readonly packageName: string;
  /** The distribution version in pyproject.toml. @default "0.1.0" */
  readonly version?: string;
  /** What the files were generated from, for their header (e.g. `src/task.ts`). */
  readonly source?: string;
  /** The lowest flytekit the package declares. @default "1.16.0" (connectors, as the mixins read) */
  readonly flytekitVersion?: string;
}

/** One generated file, its path relative to the output directory. */
export interface GeneratedFile {
  readonly path: string;
  readonly contents: string;
}

const PACKAGE_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function invalid(message: string): never {
  throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, message);
}

/** `acme-agents` → `acme_agents`: a Python import name from a project name. */
export function pythonPackageName(name: string): string {
  const bare = name.replace(/^@[^/]+\//, "").replace(/^flyte-agent-/, "");
  return `${snakeCase(bare)}_agents`;
}

/** The Python class of a task: the last part of its name in PascalCase, then `Task` (`q.daily_totals` → `DailyTotalsTask`). */
export function pythonClassName(task: TaskDefinition): string {
  const last = task.name.split(".").pop() ?? task.name;
  const base = pascalCase(last);
  return base.endsWith("Task") ? base : `${base}Task`;
}

function indentLines(text: string, prefix: string): string {
  return text
    .split("\n")
    .map((l) => (l.trim() === "" ? "" : `${prefix}${l}`))
    .join("\n");
}

/** Text for a Python docstring (no closing triple quotes inside, backslashes kept). */
function docText(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"""/g, '\\"\\"\\"');
}

interface ConfigArg {
  readonly arg: string;
  readonly key: string;
  readonly type: string;
  readonly dflt: string;
}

/** A list or dict default: a fresh one per call, never a shared default argument. */
const isMutable = (literal: string) => literal.startsWith("[") || literal.startsWith("{");

function configArgs(config: Readonly<Record<string, JsonValue>>, reserved: Set<string>): ConfigArg[] {
  const used = new Set(reserved);
  return Object.entries(config).map(([key, value]) => {
    let arg = snakeCase(key);
    while (used.has(arg)) arg = `${arg}_`;
    used.add(arg);
    return { arg, key, type: configType(value), dflt: pyLiteral(value) };
  });
}

function taskClass(task: TaskDefinition, decl: PythonDeclarations, className: string): string {
  const template = task.template();
  const variables = task.interface();
  const inputs = Object.entries(task.inputs as Record<string, AnySchema>);
  const outputs = Object.entries(task.outputs as Record<string, AnySchema>);
  const inputTypes = inputs.map(([name, schema]) => ({
    name,
    type: pythonType(schema, `${className.replace(/Task$/, "")}${pascalCase(name)}`, decl),
    dflt: pythonDefault(schema),
    description: variables.inputs?.variables[name]?.description ?? "",
  }));
  const outputTypes = outputs.map(([name, schema]) => ({
    name,
    type: pythonType(schema, `${className.replace(/Task$/, "")}${pascalCase(name)}Output`, decl),
    description: variables.outputs?.variables[name]?.description ?? "",
  }));
  const config = configArgs(task.config, new Set(["name", "self", "kwargs"]));
  if (config.length > 0) decl.imports.add("import typing");

  const doc: string[] = [task.description ?? `The ${task.taskType} task ${task.name}.`, ""];
  doc.push(
    `Task type \`\`${task.taskType}\`\` version ${task.taskTypeVersion}, served by a TypeScript agent`,
    `(flyte-agent); declared in TypeScript as \`\`${task.name}\`\`.`,
    "",
  );
  const section = (title: string, items: string[]) => {
    if (items.length === 0) return;
    doc.push(`${title}:`, ...items.map((i) => `    ${i}`), "");
  };
  section(
    "Inputs",
    inputTypes.map(
      (i) =>
        `${i.name} (${i.type})${i.description ? `: ${i.description}` : ""}${i.dflt !== undefined ? ` (default ${i.dflt})` : ""}`,
    ),
  );
  section(
    "Outputs",
    outputTypes.map((o) => `${o.name} (${o.type})${o.description ? `: ${o.description}` : ""}`),
  );
  section(
    "Config (``TaskTemplate.custom``, as keyword arguments)",
    config.map((c) => `${c.arg} (${c.type}): \`\`${c.key}\`\`, default ${c.dflt}`),
  );
  while (doc[doc.length - 1] === "") doc.pop();

  // flytekit's Docstring parses ":param x:" lines into the Variable descriptions of the interface.
  const paramDoc = [
    task.description ?? "",
    "",
    ...inputTypes.filter((i) => i.description).map((i) => `:param ${i.name}: ${i.description}`),
    ...outputTypes.filter((o) => o.description).map((o) => `:return ${o.name}: ${o.description}`),
  ]
    .join("\n")
    .trim();

  const inputsDict = inputTypes
    .map((i) => `${pyString(i.name)}: ${i.dflt !== undefined ? `(${i.type}, ${i.dflt})` : i.type}`)
    .join(", ");
  const outputsDict = outputTypes.map((o) => `${pyString(o.name)}: ${o.type}`).join(", ");

  const meta = template.metadata;
  const metadataArgs: string[] = [];
  const timeoutMs = meta?.timeout ? durationToMs(meta.timeout) : 0;
  if (timeoutMs > 0) {
    decl.imports.add("import datetime");
    metadataArgs.push(`timeout=datetime.timedelta(seconds=${pyLiteral(timeoutMs / 1000)})`);
  }
  if (meta?.retries?.retries) metadataArgs.push(`retries=${meta.retries.retries}`);
  if (meta?.interruptible !== undefined)
    metadataArgs.push(`interruptible=${meta.interruptible ? "True" : "False"}`);
  if (meta?.discoverable) {
    metadataArgs.push("cache=True", `cache_version=${pyString(meta.discoveryVersion)}`);
    if (meta.cacheSerializable) metadataArgs.push("cache_serialize=True");
    if (meta.cacheIgnoreInputVars.length > 0)
      metadataArgs.push(`cache_ignore_input_vars=(${meta.cacheIgnoreInputVars.map(pyString).join(", ")},)`);
  }

  const signature = [
    "self",
    "name: str",
    ...(config.length > 0
      ? [
          "*",
          ...config.map((c) =>
            isMutable(c.dflt)
              ? `${c.arg}: typing.Optional[${c.type}] = None`
              : `${c.arg}: ${c.type} = ${c.dflt}`,
          ),
        ]
      : []),
    "**kwargs: typing.Any",
  ];
  decl.imports.add("import typing");
  const lines = [
    `class ${className}(FlyteAgentExecutorMixin, PythonTask):`,
    indentLines(`"""${docText(doc.join("\n"))}\n"""`, "    "),
    "",
    `    _TASK_TYPE = ${pyString(task.taskType)}`,
    `    _TASK_TYPE_VERSION = ${task.taskTypeVersion}`,
    `    #: Input name → Python type, or (type, default).`,
    `    _INPUTS = {${inputsDict}}`,
    `    _OUTPUTS = {${outputsDict}}`,
    `    #: Constructor argument → key of TaskTemplate.custom.`,
    `    _CONFIG_KEYS = {${config.map((c) => `${pyString(c.arg)}: ${pyString(c.key)}`).join(", ")}}`,
    `    _DOCSTRING = ${pyString(paramDoc)}`,
    "",
    `    def __init__(${signature.join(", ")}) -> None:`,
    `        self._custom = {${config
      .map(
        (c) =>
          `${pyString(c.key)}: ${isMutable(c.dflt) ? `${c.dflt} if ${c.arg} is None else ${c.arg}` : c.arg}`,
      )
      .join(", ")}}`,
    ...(metadataArgs.length > 0
      ? [`        kwargs.setdefault("metadata", TaskMetadata(${metadataArgs.join(", ")}))`]
      : []),
    // PythonTask.__init__ hands **kwargs (task_type_version, metadata) on to Task.__init__
    // (flytekit/core/base_task.py, PythonTask l.473-511, Task l.215-232 in flytekit 1.16.5).
    "        super().__init__(",
    "            task_type=self._TASK_TYPE,",
    "            task_type_version=self._TASK_TYPE_VERSION,",
    "            name=name,",
    "            task_config=None,",
    "            interface=Interface(",
    "                inputs=dict(self._INPUTS), outputs=dict(self._OUTPUTS), docstring=Docstring(docstring=self._DOCSTRING)",
    "            ),",
    "            **kwargs,",
    "        )",
    "",
    "    def get_custom(self, settings: SerializationSettings) -> typing.Dict[str, typing.Any]:",
    `        """The agent's settings, written to TaskTemplate.custom."""`,
    "        return dict(self._custom)",
    "",
  ];
  return lines.join("\n");
}

function header(options: PythonPackageOptions): string {
  return `# Generated by \`flyte-agent python\`${options.source ? ` from ${options.source}` : ""}: do not edit, regenerate.`;
}

/**
 * The Python side of a project's tasks: a package holding one flytekit task class per task (task type
 * and version, typed interface, the `config` as typed keyword arguments returned by `get_custom`,
 * docstrings from the descriptions), a mixin that runs the tasks locally on a running
 * `flyte-agent serve agent` (endpoint from `$FLYTE_AGENT_ENDPOINT`) and a `pyproject.toml`.
 *
 * The classes follow flytekit 1.16's plugin tasks: `PythonTask` subclasses built with an `Interface`
 * and overriding `get_custom` (flytekit/core/base_task.py), executed locally by a mixin in place of
 * flytekit's `AsyncConnectorExecutorMixin`/`SyncConnectorExecutorMixin`.
 *
 * @throws FlyteAgentError (`INVALID_CONFIG`) for an invalid package name, no tasks, or two tasks with
 *   the same class name.
 */
export function generatePythonPackage(
  tasks: readonly TaskDefinition[],
  options: PythonPackageOptions,
): GeneratedFile[] {
  const pkg = options.packageName;
  if (!PACKAGE_RE.test(pkg))
    invalid(`--package must be a Python import name (letters, digits, _), got "${pkg}"`);
  if (tasks.length === 0) invalid("there is no task to generate Python for");
  const decl = new PythonDeclarations();
  const classes: string[] = [];
  const names: string[] = [];
  const byClass = new Map<string, string>();
  for (const task of [...tasks].sort((a, b) => a.name.localeCompare(b.name))) {
    const className = pythonClassName(task);
    const clash = byClass.get(className);
    if (clash)
      invalid(`tasks ${clash} and ${task.name} would both be the Python class ${className}: rename one`);
    byClass.set(className, task.name);
    decl.uniqueName(className);
    classes.push(taskClass(task, decl, className));
    names.push(className);
  }
  const stdlib = [...decl.imports]
    .filter((i) => i.startsWith("import ") || i.startsWith("from dataclasses"))
    .sort();
  const flytekitTypes = [...decl.imports].filter((i) => i.startsWith("from flytekit")).sort();
  const tasksPy = [
    header(options),
    `"""flytekit task classes of the TypeScript agents' tasks.`,
    "",
    "Use them in a workflow like any flytekit task; `pyflyte run` (local) calls the agent server at",
    `$${ENDPOINT_ENV} (\`flyte-agent serve agent\`), and on a cluster FlytePropeller sends them to the agent.`,
    `"""`,
    "",
    ...stdlib,
    "",
    "from flytekit.configuration import SerializationSettings",
    "from flytekit.core.base_task import PythonTask, TaskMetadata",
    "from flytekit.core.docstring import Docstring",
    "from flytekit.core.interface import Interface",
    ...flytekitTypes,
    "",
    "from ._mixin import FlyteAgentExecutorMixin",
    "",
    `__all__ = [${names.map(pyString).join(", ")}]`,
    "",
    "",
    ...decl.blocks.map((b) => `${b}\n`),
    classes.join("\n\n"),
  ]
    .join("\n")
    .replace(/\n{3,}/g, "\n\n\n");
  const init = [
    header(options),
    `"""flytekit tasks served by TypeScript agents (flyte-agent)."""`,
    "",
    `from .tasks import ${names.join(", ")}`,
    "",
    `__all__ = [${names.map(pyString).join(", ")}]`,
    "",
  ].join("\n");
  const pyproject = [
    header(options),
    "[build-system]",
    'requires = ["setuptools>=61"]',
    'build-backend = "setuptools.build_meta"',
    "",
    "[project]",
    `name = ${pyString(pkg)}`,
    `version = ${pyString(options.version ?? "0.1.0")}`,
    'description = "flytekit tasks served by TypeScript agents (flyte-agent)"',
    'requires-python = ">=3.9"',
    `dependencies = [${pyString(`flytekit>=${options.flytekitVersion ?? "1.16.0"}`)}, "grpcio"]`,
    "",
    "[tool.setuptools]",
    `packages = [${pyString(pkg)}]`,
    "",
  ].join("\n");
  return [
    { path: "pyproject.toml", contents: pyproject },
    { path: `${pkg}/__init__.py`, contents: init },
    { path: `${pkg}/tasks.py`, contents: `${tasksPy.trimEnd()}\n` },
    { path: `${pkg}/_mixin.py`, contents: `${header(options)}\n${MIXIN_PY}` },
    { path: `${pkg}/_client.py`, contents: `${header(options)}\n${CLIENT_PY}` },
  ];
}
