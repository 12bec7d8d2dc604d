import { readFile } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";

interface HiddenLockfile {
  packages?: Record<string, { resolved?: string; link?: boolean; version?: string }>;
}

/**
 * The `flyte-agent` dependency a new project should declare, so that its `npm install` gets the very
 * copy of flyte-agent that created it:
 *
 * - run from a checkout (the package is not inside a `node_modules` directory): `file:<checkout>`;
 * - installed from a tarball or a local path (npm's `node_modules/.package-lock.json` records a
 *   `file:` origin, as `npx --package ./flyte-agent-0.1.0.tgz` does): `file:<that path>`;
 * - otherwise (installed from the registry, or by a package manager that leaves no such record):
 *   `^<version>`.
 *
 * @param packageRoot the directory holding flyte-agent's own package.json (real path)
 * @param version flyte-agent's version
 */
export async function defaultFlyteAgentSpec(packageRoot: string, version: string): Promise<string> {
  const root = resolve(packageRoot);
  const parts = root.split(sep);
  const first = parts.indexOf("node_modules");
  if (first < 0) return `file:${root}`;
  // The project that installed it: the directory above the outermost node_modules.
  const project = parts.slice(0, first).join(sep) || sep;
  let lock: HiddenLockfile;
  try {
    lock = JSON.parse(
      await readFile(join(project, "node_modules", ".package-lock.json"), "utf8"),
    ) as HiddenLockfile;
  } catch {
    return `^${version}`;
  }
  const key = relative(project, root).split(sep).join("/");
  const resolved = lock.packages?.[key]?.resolved;
  if (resolved?.startsWith("file:")) return `file:${resolve(project, resolved.slice(5))}`;
  return `^${version}`;
}
