import { realpathSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { ErrorCode, FlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";
import { PackageManager, renderDockerfile } from "../deploy/dockerfile.js";
import { ensureDir } from "../deploy/ensure-dir.js";
import { defaultFlyteAgentSpec } from "./flyte-agent-spec.js";
import { type ProjectNameOptions, type ProjectNames, resolveProjectNames } from "./names.js";

/** The project templates shipped in `templates/`. */
export const TemplateKind = {
  /** An agent whose jobs run elsewhere and are polled (create / get / delete). */
  ASYNC: "async",
  /** An agent that answers in one call (do). */
  SYNC: "sync",
  /** A sensor: an async agent whose every poll pokes a condition. */
  SENSOR: "sensor",
} as const;
export type TemplateKind = (typeof TemplateKind)[keyof typeof TemplateKind];

export { PackageManager } from "../deploy/dockerfile.js";

/** What {@link createProject} takes. */
export interface CreateProjectOptions extends ProjectNameOptions {
  /** The agent's name (see {@link resolveProjectNames} for what is derived from it). */
  readonly name: string;
  /** @default "async" */
  readonly template?: TemplateKind;
  /** Where to create the project, relative to `cwd`. @default the name */
  readonly dir?: string;
  /** @default process.cwd() */
  readonly cwd?: string;
  /** Write into a non-empty directory, replacing files the template has. @default false */
  readonly force?: boolean;
  /**
   * The `flyte-agent` dev dependency (the CLI, tsx, the testing kit) written to package.json.
   * @default where this copy came from: its checkout or tarball as a `file:` path, else
   * `^<this package's version>` (see {@link defaultFlyteAgentSpec})
   */
  readonly flyteAgentSpec?: string;
  /**
   * The `@flyte-agent/runtime` dependency (what the agent imports and the image serves with) written to
   * package.json. @default where the runtime this copy uses came from, as for {@link flyteAgentSpec}
   */
  readonly runtimeSpec?: string;
  /** Whose commands the scripts, the next steps and the Dockerfile use. @default "npm" */
  readonly packageManager?: PackageManager;
  /** Where the templates are. @default this package's `templates/` */
  readonly templatesDir?: string;
}

/** What {@link createProject} made. */
export interface CreatedProject {
  /** The absolute path of the new project. */
  readonly dir: string;
  readonly template: TemplateKind;
  readonly names: ProjectNames;
  /** The files written, relative to `dir`, sorted. */
  readonly files: readonly string[];
  /** Shell commands to try next, in order. */
  readonly nextSteps: readonly string[];
}

interface ResolvedOptions {
  readonly names: ProjectNames;
  readonly template: TemplateKind;
  readonly cwd: string;
  readonly dir: string;
  readonly force: boolean;
  readonly flyteAgentSpec: string;
  readonly runtimeSpec: string;
  readonly packageManager: PackageManager;
  readonly templatesDir: string;
}

/** Template files whose names npm or git would treat specially, and what they become. */
const RENAMES: Readonly<Record<string, string>> = {
  _gitignore: ".gitignore",
  _dockerignore: ".dockerignore",
};
const SKIPPED = new Set(["node_modules", "dist", "package-lock.json", ".flyte-agent"]);
const TEXT_EXTENSIONS =
  /\.(ts|mts|js|mjs|json|md|txt|yaml|yml|py|toml)$|^(Dockerfile|_gitignore|_dockerignore)$/;

/** The task type of every sensor task (served by the built-in sensor engine). */
const SENSOR_TASK_TYPE = "sensor";

const packageRoot = fileURLToPath(new URL("../..", import.meta.url));
/** The directory of the `@flyte-agent/runtime` this copy runs with (a checkout's packages/runtime). */
const runtimeRoot = (): string =>
  dirname(realpathSync(createRequire(import.meta.url).resolve("@flyte-agent/runtime/package.json")));

interface OwnPackageJson {
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

let ownPackage: OwnPackageJson | undefined;
async function readOwnPackage(): Promise<OwnPackageJson> {
  ownPackage ??= JSON.parse(await readFile(join(packageRoot, "package.json"), "utf8")) as OwnPackageJson;
  return ownPackage;
}

function invalid(message: string): never {
  throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, message);
}

/** True when `value` names a template. */
export function isTemplateKind(value: string): value is TemplateKind {
  return (Object.values(TemplateKind) as string[]).includes(value);
}

async function resolveOptions(options: CreateProjectOptions): Promise<ResolvedOptions> {
  const template = options.template ?? TemplateKind.ASYNC;
  if (!isTemplateKind(template)) {
    invalid(
      `unknown template "${String(template)}": choose one of ${Object.values(TemplateKind).join(", ")}`,
    );
  }
  let names: ProjectNames;
  if (template === TemplateKind.SENSOR) {
    // Sensor tasks all have type `sensor`: the built-in sensor engine serves them and finds the sensor
    // by the class name written in the task template.
    if (options.taskType !== undefined && options.taskType !== SENSOR_TASK_TYPE) {
      invalid(`a sensor's task type is always "${SENSOR_TASK_TYPE}" (the sensor engine's): drop --task-type`);
    }
    names = {
      ...resolveProjectNames(options.name, { ...options, classSuffix: "Sensor" }),
      taskType: SENSOR_TASK_TYPE,
    };
  } else {
    names = resolveProjectNames(options.name, options);
  }
  const packageManager = options.packageManager ?? PackageManager.NPM;
  if (!(Object.values(PackageManager) as string[]).includes(packageManager)) {
    invalid(
      `unknown package manager "${String(packageManager)}": choose one of ${Object.values(PackageManager).join(", ")}`,
    );
  }
  const cwd = resolve(options.cwd ?? process.cwd());
  const dir = resolve(cwd, options.dir ?? options.name);
  return {
    names,
    template,
    cwd,
    dir,
    force: options.force ?? false,
    flyteAgentSpec:
      options.flyteAgentSpec ?? (await defaultFlyteAgentSpec(packageRoot, (await readOwnPackage()).version)),
    // Both packages have one version (the CLI depends on its runtime exactly).
    runtimeSpec:
      options.runtimeSpec ?? (await defaultFlyteAgentSpec(runtimeRoot(), (await readOwnPackage()).version)),
    packageManager,
    templatesDir: resolve(options.templatesDir ?? join(packageRoot, "templates")),
  };
}

/** The entries of `dir`, or `undefined` when it does not exist. */
async function entriesOf(dir: string): Promise<string[] | undefined> {
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) invalid(`${dir} exists and is not a directory: choose another name or --dir`);
    return await readdir(dir);
  } catch (err) {
    // A missing directory, or a path through a file: ensureDir says which, naming the flag.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw err;
  }
}

async function listTemplateFiles(root: string, sub = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, sub), { withFileTypes: true })) {
    if (SKIPPED.has(entry.name) || entry.name.endsWith(".tgz")) continue;
    const rel = sub ? `${sub}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listTemplateFiles(root, rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

function camelCase(words: string): string {
  const pascal = words
    .split(/[-_.]+/)
    .filter((w) => w !== "")
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
  return pascal[0]!.toLowerCase() + pascal.slice(1);
}

/**
 * The template's placeholder names and what they become. Templates use these names as ordinary
 * identifiers so they stay real, type-checked projects; the longest come first so that none is
 * replaced inside another.
 */
function replacements(names: ProjectNames): [string, string][] {
  const stem = names.name.replace(/^flyte-agent-/, "");
  return [
    ["flyte-agent-starter", names.packageName],
    ["StarterAgent", names.className],
    ["StarterSensor", names.className],
    ["starterTask", `${camelCase(stem)}Task`],
    ["starter_task", names.taskType],
    ["starter_name", stem.replace(/[-.]/g, "_")],
  ];
}

function render(text: string, pairs: readonly [string, string][]): string {
  let out = text;
  for (const [from, to] of pairs) out = out.split(from).join(to);
  return out;
}

async function rewritePackageJson(text: string, o: ResolvedOptions): Promise<string> {
  const pkg = JSON.parse(text) as {
    name?: string;
    version?: string;
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
    scripts?: Record<string, string>;
  };
  const own = await readOwnPackage();
  const ownVersions = { ...own.devDependencies, ...own.dependencies };
  // Keep shared dependencies (zod, grpc-js, typescript, vitest...) at the versions flyte-agent is built
  // and tested with, so the project gets one copy of each.
  const sync = (deps: Record<string, string> | undefined) => {
    if (!deps) return;
    for (const name of Object.keys(deps)) {
      const v = ownVersions[name];
      if (v !== undefined) deps[name] = v;
    }
  };
  sync(pkg.dependencies);
  sync(pkg.devDependencies);
  // The image installs the runtime (a dependency); the CLI and its toolchain are for development.
  const { "flyte-agent": _cli, ...dependencies } = pkg.dependencies ?? {};
  pkg.dependencies = { ...dependencies, "@flyte-agent/runtime": o.runtimeSpec };
  pkg.devDependencies = { ...pkg.devDependencies, "flyte-agent": o.flyteAgentSpec };
  // The scripts call each other with the package manager the project is made for.
  for (const [name, script] of Object.entries(pkg.scripts ?? {}))
    pkg.scripts![name] = script.replace(/\bnpm run /g, `${o.packageManager} run `);
  return `${JSON.stringify({ ...pkg, name: o.names.packageName, version: "0.1.0" }, null, 2)}\n`;
}

function nextSteps(o: ResolvedOptions): string[] {
  const rel = relative(o.cwd, o.dir);
  const pm = o.packageManager;
  const run = (script: string) => `${pm} run ${script}`;
  return [
    ...(rel === "" ? [] : [`cd ${/\s/.test(rel) ? JSON.stringify(rel) : rel}`]),
    `${pm} install`,
    `${pm} test`,
    run("run"),
    run("serve"),
  ];
}

/**
 * Creates a new agent project from one of the templates: copies `templates/<kind>/`, renames
 * `_gitignore` and `_dockerignore`, puts the derived names in (task type, agent class, package name),
 * and rewrites package.json with the package name, `@flyte-agent/runtime` as a dependency and
 * `flyte-agent` as a dev dependency (both this copy's, see {@link CreateProjectOptions.flyteAgentSpec}).
 *
 * @throws FlyteAgentError (`INVALID_CONFIG`) for an invalid name, an unknown template, or a target
 *   directory that is not empty (unless `force`).
 */
export async function createProject(options: CreateProjectOptions): Promise<CreatedProject> {
  const o = await resolveOptions(options);
  const source = join(o.templatesDir, o.template);
  if (!(await entriesOf(source))) invalid(`template "${o.template}" is missing from ${o.templatesDir}`);

  const existing = await entriesOf(o.dir);
  if (existing && existing.length > 0 && !o.force) {
    invalid(
      `${relative(o.cwd, o.dir) || o.dir} is not empty: choose another directory, or pass --force to write the template's files into it`,
    );
  }

  // The project directory first, so a bad --dir is named as such (and never loops, see ensureDir).
  await ensureDir(o.dir, "--dir", options.dir ?? options.name);
  const pairs = replacements(o.names);
  const written: string[] = [];
  for (const rel of await listTemplateFiles(source)) {
    const parts = rel.split("/");
    const base = parts.pop()!;
    // Paths get the names too (python/starter_name_agents/ is the project's Python package).
    const target = render([...parts, RENAMES[base] ?? base].join("/"), pairs);
    const to = join(o.dir, ...target.split("/"));
    // Names are validated, but a renamed file must still never land outside the project.
    if (!to.startsWith(o.dir + sep) || isAbsolute(target))
      invalid(`refusing to write ${to} outside ${o.dir}`);
    await mkdir(dirname(to), { recursive: true });
    const from = join(source, ...rel.split("/"));
    if (TEXT_EXTENSIONS.test(base)) {
      let text = render(await readFile(from, "utf8"), pairs);
      if (target === "package.json") text = await rewritePackageJson(text, o);
      await writeFile(to, text);
    } else {
      await copyFile(from, to);
    }
    written.push(target);
  }
  // The image is built by the same generator `deploy` uses, for this package manager.
  await writeFile(
    join(o.dir, "Dockerfile"),
    renderDockerfile({ build: true, packageManager: o.packageManager, healthCheck: "dist/health-check.js" }),
  );
  written.push("Dockerfile");
  return {
    dir: o.dir,
    template: o.template,
    names: o.names,
    files: written.sort(),
    nextSteps: nextSteps(o),
  };
}
