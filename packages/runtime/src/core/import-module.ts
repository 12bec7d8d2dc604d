import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ErrorCode, FlyteAgentError } from "./errors.js";

const tsExtension = /\.(c|m)?tsx?$/;
let tsxRegistered: Promise<void> | undefined;

/**
 * Imports a user module (an agent module, a task file) by absolute path, TypeScript included without a
 * build step. Every module goes into the one module graph of the process, so a module reached twice
 * (given with `--modules` and imported by a task file) runs once. tsx's loader is registered only when
 * a TypeScript file is first asked for, so plain JavaScript deployments never pay for it; tsx comes
 * with the `flyte-agent` CLI (a dev dependency of an agent project), not with this runtime.
 */
export async function importModuleFile(file: string): Promise<Record<string, unknown>> {
  if (tsExtension.test(file)) {
    tsxRegistered ??= import("tsx/esm/api").then(({ register }) => {
      register();
    });
    try {
      await tsxRegistered;
    } catch (err) {
      throw tsxMissing(file, err) ?? err;
    }
  }
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw explainModuleFormat(file, err) ?? err;
  }
}

/**
 * tsx is the CLI's (flyte-agent's) dependency, not the runtime's: an image that installs only
 * `@flyte-agent/runtime` serves built JavaScript. A `.ts` module there is one sentence, not Node's
 * "Cannot find package".
 */
function tsxMissing(file: string, err: unknown): FlyteAgentError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (code !== "ERR_MODULE_NOT_FOUND" || !/\btsx\b/.test(String((err as Error).message))) return undefined;
  return new FlyteAgentError(
    ErrorCode.INVALID_CONFIG,
    `${file} is TypeScript and tsx is not installed: build it to .js, or install flyte-agent to load .ts`,
    { cause: err },
  );
}

/**
 * Node's "Cannot require() ES Module ... in a cycle" for a `.ts`/`.js` file outside a
 * `"type": "module"` package: the file was compiled as CommonJS, and its imports of ESM packages
 * (this library among them) cannot be required from there. Says what to change instead.
 */
function explainModuleFormat(file: string, err: unknown): FlyteAgentError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (code !== "ERR_REQUIRE_CYCLE_MODULE" && code !== "ERR_REQUIRE_ESM") return undefined;
  if (!/\.(ts|tsx|js|jsx)$/.test(file)) return undefined;
  const pkg = nearestPackageJson(dirname(file));
  const where = pkg
    ? `"type": "module" to ${pkg}`
    : `a package.json with {"type": "module"} to ${dirname(file)}`;
  const renamed = basename(file).replace(/\.(ts|tsx|js|jsx)$/, (ext) =>
    ext.startsWith(".t") ? ".mts" : ".mjs",
  );
  return new FlyteAgentError(
    ErrorCode.INVALID_CONFIG,
    `${file} is loaded as CommonJS because its package is not "type": "module"; add ${where}, or rename the file to ${renamed}`,
    { cause: err },
  );
}

function nearestPackageJson(dir: string): string | undefined {
  for (let current = dir; ; current = dirname(current)) {
    const candidate = join(current, "package.json");
    if (existsSync(candidate)) return candidate;
    if (dirname(current) === current) return undefined;
  }
}

/**
 * Imports a path (relative to `cwd`) or a package name resolved from `cwd`, through
 * {@link importModuleFile}.
 */
export async function importUserModule(
  specifier: string,
  cwd = process.cwd(),
): Promise<Record<string, unknown>> {
  const local = resolve(cwd, specifier);
  if (existsSync(local)) return importModuleFile(local);
  let file: string;
  try {
    file = createRequire(resolve(cwd, "package.json")).resolve(specifier);
  } catch {
    // An ESM-only package has no "require" condition; let Node resolve it from here.
    return (await import(specifier)) as Record<string, unknown>;
  }
  return importModuleFile(file);
}
