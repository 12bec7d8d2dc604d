import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const tsExtension = /\.(c|m)?tsx?$/;
let tsxRegistered: Promise<void> | undefined;

/**
 * Imports a user module (an agent module, a task file) by absolute path, TypeScript included without a
 * build step. Every module goes into the one module graph of the process, so a module reached twice
 * (given with `--modules` and imported by a task file) runs once. tsx's loader is registered only when
 * a TypeScript file is first asked for, so plain JavaScript deployments never pay for it.
 */
export async function importModuleFile(file: string): Promise<Record<string, unknown>> {
  if (tsExtension.test(file)) {
    tsxRegistered ??= import("tsx/esm/api").then(({ register }) => {
      register();
    });
    await tsxRegistered;
  }
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
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
