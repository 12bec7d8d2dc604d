import { existsSync, readFileSync } from "node:fs";
import { importModuleFile } from "../core/import-module.js";
import { createRequire } from "node:module";
import path from "node:path";
import { isAgent } from "../core/agent.js";
import { ErrorCode, FlyteAgentError } from "../core/errors.js";
import { AgentRegistry } from "../core/registry.js";

/**
 * The `package.json` field through which a package declares its agent modules, found automatically
 * by `flyte-agent serve` (the counterpart of flytekit's plugin entry points):
 *
 * ```json
 * { "flyteAgent": { "modules": ["./dist/agent.js"] } }
 * ```
 */
export const packageJsonField = "flyteAgent";

/** Options of {@link loadAgentModules}. */
export interface LoadAgentModulesOptions {
  /** Files (`.js`, `.mjs`, `.ts`, `.mts`) or package names to import. */
  readonly modules?: readonly string[];
  /** Where relative paths and package names are resolved. @default process.cwd() */
  readonly cwd?: string;
  /**
   * Also import the modules declared under `"flyteAgent": {"modules": [...]}` in the `package.json` of
   * `cwd` and of the packages it lists in `dependencies` / `optionalDependencies` (not transitive
   * packages, dev dependencies or workspace links it does not depend on). @default true
   */
  readonly discover?: boolean;
  /** Where exported agents are registered. @default the process-wide registry */
  readonly registry?: AgentRegistry;
}

/** One module that was imported. */
export interface LoadedModule {
  /** The path or package name as given or declared. */
  readonly specifier: string;
  /** `"--modules"`, or the package whose `package.json` declared it. */
  readonly from: string;
  /** The absolute file that was imported. */
  readonly file: string;
}

interface PendingModule {
  readonly specifier: string;
  readonly from: string;
  readonly baseDir: string;
}

const moduleExtension = /\.(c|m)?(j|t)sx?$/;

/**
 * Imports agent modules. Importing is what registers agents (a module calls `AgentRegistry.register`);
 * agents a module exports — instances, or classes whose constructor takes no argument — are registered
 * too, unless the module already registered that agent.
 * @throws FlyteAgentError (INVALID_CONFIG) naming the module that cannot be found or fails to load.
 */
export async function loadAgentModules(options: LoadAgentModulesOptions = {}): Promise<LoadedModule[]> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const registry = options.registry ?? AgentRegistry.default;
  const pending: PendingModule[] = [
    ...((options.discover ?? true) ? discoverModules(cwd) : []),
    ...(options.modules ?? []).map((specifier) => ({ specifier, from: "--modules", baseDir: cwd })),
  ];
  const loaded: LoadedModule[] = [];
  const seen = new Set<string>();
  for (const item of pending) {
    const file = resolveModule(item.specifier, item.baseDir);
    if (seen.has(file)) continue;
    seen.add(file);
    let namespace: Record<string, unknown>;
    try {
      namespace = await importModuleFile(file);
    } catch (err) {
      if (err instanceof FlyteAgentError) throw err;
      // One line, but with the place: a transform error's first line ("Transform failed with 1
      // error:") says nothing; the line naming file:line:column does.
      const lines = (err instanceof Error ? err.message : String(err))
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
      const located = lines.slice(1).find((l) => /:\d+:\d+: /.test(l));
      const message = located ? `${lines[0]} ${located}` : (lines[0] ?? "");
      throw new FlyteAgentError(
        ErrorCode.INVALID_CONFIG,
        `agent module ${item.specifier} (from ${item.from}) failed to load: ${message}`,
        { cause: err },
      );
    }
    registerExports(namespace, registry);
    loaded.push({ specifier: item.specifier, from: item.from, file });
  }
  return loaded;
}

function discoverModules(cwd: string): PendingModule[] {
  const found: PendingModule[] = [];
  const declared = (dir: string): void => {
    const pkg = readPackageJson(dir);
    const field = pkg?.[packageJsonField] as { modules?: unknown } | undefined;
    if (!field) return;
    const modules = field.modules;
    if (!Array.isArray(modules) || !modules.every((m) => typeof m === "string")) {
      throw new FlyteAgentError(
        ErrorCode.INVALID_CONFIG,
        `${path.join(dir, "package.json")}: "${packageJsonField}.modules" must be a list of module paths`,
      );
    }
    const name = typeof pkg?.name === "string" ? pkg.name : dir;
    for (const m of modules) found.push({ specifier: m, from: `package ${name}`, baseDir: dir });
  };
  declared(cwd);
  // Only the packages the project depends on: node_modules also holds transitive packages and
  // workspace links, and a deployment must serve exactly what it was given.
  const project = readPackageJson(cwd);
  const deps = new Set<string>();
  for (const field of ["dependencies", "optionalDependencies"]) {
    const map = project?.[field];
    if (map && typeof map === "object") for (const name of Object.keys(map)) deps.add(name);
  }
  for (const name of deps) {
    const dir = path.join(cwd, "node_modules", name);
    if (existsSync(dir)) declared(dir);
  }
  return found;
}

function readPackageJson(dir: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function resolveModule(specifier: string, baseDir: string): string {
  // "dist/agent.js" is a path even without "./": it exists, or it ends like a module file.
  const isPath =
    specifier.startsWith(".") ||
    path.isAbsolute(specifier) ||
    moduleExtension.test(specifier) ||
    existsSync(path.resolve(baseDir, specifier));
  if (isPath) {
    const file = path.resolve(baseDir, specifier);
    if (!existsSync(file)) {
      throw new FlyteAgentError(
        ErrorCode.INVALID_CONFIG,
        `agent module ${specifier} not found (looked at ${file})`,
      );
    }
    return file;
  }
  const require = createRequire(path.join(baseDir, "package.json"));
  try {
    return require.resolve(specifier);
  } catch {
    // ESM-only packages export no "require" condition; read their entry point from package.json.
    const dir = path.join(baseDir, "node_modules", specifier);
    const pkg = readPackageJson(dir);
    const entry = pkg ? esmEntry(pkg) : undefined;
    if (entry && existsSync(path.join(dir, entry))) return path.join(dir, entry);
    throw new FlyteAgentError(
      ErrorCode.INVALID_CONFIG,
      `agent module ${specifier} not found: not a file, and no package of that name is installed in ${baseDir}`,
    );
  }
}

function esmEntry(pkg: Record<string, unknown>): string | undefined {
  const pick = (e: unknown): string | undefined => {
    if (typeof e === "string") return e;
    if (e && typeof e === "object") {
      const o = e as Record<string, unknown>;
      return pick(o["."] ?? o.import ?? o.node ?? o.default);
    }
    return undefined;
  };
  return (
    pick(pkg.exports) ??
    (typeof pkg.module === "string" ? pkg.module : undefined) ??
    (typeof pkg.main === "string" ? pkg.main : "index.js")
  );
}

function registerExports(namespace: Record<string, unknown>, registry: AgentRegistry): void {
  const values = [...new Set(Object.values(namespace))];
  for (const value of values) {
    if (isAgent(value) && !registry.agents().includes(value)) registry.register(value);
  }
  // A class is instantiated only when no agent of that class is registered yet (by the module itself
  // or as an exported instance).
  const registeredClasses = new Set<unknown>(registry.agents().map((a) => (a as object).constructor));
  for (const value of values) {
    if (!isAgentClass(value) || registeredClasses.has(value)) continue;
    let instance: unknown;
    try {
      instance = new (value as new () => unknown)();
    } catch {
      continue; // a class that needs arguments is the module's to register
    }
    if (isAgent(instance)) {
      registry.register(instance);
      registeredClasses.add(value);
    }
  }
}

function isAgentClass(value: unknown): boolean {
  if (typeof value !== "function") return false;
  const proto = (value as { prototype?: Record<string, unknown> }).prototype;
  // The base classes leave their abstract methods undefined, so only concrete agents pass.
  return (
    !!proto &&
    (typeof proto.do === "function" ||
      (typeof proto.create === "function" &&
        typeof proto.get === "function" &&
        typeof proto.delete === "function"))
  );
}
