import { builtinModules } from "node:module";
import { ErrorCode, FlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";

/** The names derived from `flyte-agent new <name>`. */
export interface ProjectNames {
  /** The name as given, e.g. `bigquery` or `my-warehouse`. */
  readonly name: string;
  /** The task type the agent serves (`TaskTemplate.type`), e.g. `bigquery`, `my_warehouse`. */
  readonly taskType: string;
  /** The agent class, e.g. `BigqueryAgent`, `MyWarehouseAgent`. */
  readonly className: string;
  /** The npm package name, e.g. `flyte-agent-bigquery`. */
  readonly packageName: string;
}

/** Overrides of the derived names. */
export interface ProjectNameOptions {
  /** @default `flyte-agent-<name>` (or `<name>` when it already starts with `flyte-agent-`) */
  readonly packageName?: string;
  /** @default the name's words in PascalCase followed by `classSuffix` */
  readonly className?: string;
  /** What a derived class name ends with (`Sensor` for sensors). @default "Agent" */
  readonly classSuffix?: string;
  /** @default the name with `-` and `.` turned into `_` */
  readonly taskType?: string;
}

const NAME_RE = /^[a-z][a-z0-9]*(?:[-_.][a-z0-9]+)*$/;
const IDENTIFIER_RE = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const TASK_TYPE_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const PACKAGE_PREFIX = "flyte-agent-";

function invalid(message: string): never {
  throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, message);
}

/**
 * Why `name` is not a valid npm package name, or `undefined` when it is. Follows npm's rules for new
 * packages: at most 214 characters, lowercase, URL-safe, no leading `.` or `_`, no Node.js core module
 * names, an optional `@scope/`.
 */
export function npmNameProblem(name: string): string | undefined {
  if (name.length === 0) return "it is empty";
  if (name.length > 214) return "it is longer than 214 characters";
  if (name !== name.trim()) return "it has leading or trailing spaces";
  if (name !== name.toLowerCase()) return "it has uppercase letters";
  const scoped = /^@([^/]+)\/([^/]+)$/.exec(name);
  if (name.startsWith("@") && !scoped) return "a scoped name must look like @scope/name";
  const parts = scoped ? [scoped[1]!, scoped[2]!] : [name];
  for (const part of parts) {
    if (part.startsWith(".") || part.startsWith("_")) return "it starts with a dot or an underscore";
    if (encodeURIComponent(part) !== part) return "it has characters that are not URL-safe";
    if (!/^[a-z0-9._~-]+$/.test(part)) return "it may only contain a-z, 0-9, '-', '.', '_' and '~'";
  }
  const base = parts[parts.length - 1]!;
  if (base === "node_modules" || base === "favicon.ico") return `"${base}" is reserved`;
  if (!scoped && builtinModules.includes(name)) return `"${name}" is a Node.js core module`;
  return undefined;
}

function pascalCase(name: string): string {
  return name
    .split(/[-_.]+/)
    .filter((w) => w !== "")
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
}

/**
 * Derives the task type, agent class and package name from the name given to `flyte-agent new`:
 * `bigquery` → task type `bigquery`, class `BigqueryAgent`, package `flyte-agent-bigquery`;
 * `my-warehouse` → `my_warehouse`, `MyWarehouseAgent`, `flyte-agent-my-warehouse`.
 *
 * The name must be lowercase words of letters and digits joined by `-`, `_` or `.`, starting with a
 * letter: it becomes a directory, a package name and a task type, so anything that could walk out of
 * the target directory (`/`, `\`, `..`) is refused.
 *
 * @throws FlyteAgentError (`INVALID_CONFIG`) naming the rule that was broken.
 */
export function resolveProjectNames(name: string, options: ProjectNameOptions = {}): ProjectNames {
  if (name.includes("/") || name.includes("\\") || name.includes("..")) {
    invalid(`"${name}" is not a valid agent name: it must not contain "/", "\\" or ".."`);
  }
  if (!NAME_RE.test(name)) {
    invalid(
      `"${name}" is not a valid agent name: use lowercase letters, digits and single "-", "_" or "." between words, starting with a letter (e.g. "bigquery", "my-warehouse")`,
    );
  }
  const packageName =
    options.packageName ?? (name.startsWith(PACKAGE_PREFIX) ? name : `${PACKAGE_PREFIX}${name}`);
  const problem = npmNameProblem(packageName);
  if (problem) invalid(`"${packageName}" is not a valid npm package name: ${problem}`);

  const stem = name.startsWith(PACKAGE_PREFIX) ? name.slice(PACKAGE_PREFIX.length) : name;
  const className = options.className ?? `${pascalCase(stem)}${options.classSuffix ?? "Agent"}`;
  if (!IDENTIFIER_RE.test(className)) {
    invalid(
      `"${className}" is not a valid class name: use letters, digits, "_" or "$", not starting with a digit`,
    );
  }
  const taskType = options.taskType ?? stem.replace(/[-.]/g, "_");
  if (!TASK_TYPE_RE.test(taskType)) {
    invalid(
      `"${taskType}" is not a valid task type: use letters, digits, "_", "-" or ".", starting with a letter`,
    );
  }
  return { name, taskType, className, packageName };
}
