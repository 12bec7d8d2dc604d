// The import rules of the layering in ARCHITECTURE.md, and a checker that reads every import (static,
// dynamic, re-export, type-only) of the files of both packages: the runtime (packages/runtime/src/,
// `@flyte-agent/runtime`) and the CLI and toolchain (src/, `flyte-agent`).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

/**
 * What each folder may import besides itself: a folder name, or one file of a folder
 * (`"server/index.ts"`) when only that entry is public to the importer. `"(root)"` is a package's
 * index.ts (and its other top-level entries). The runtime's folders (gen, core, types, task's
 * defineTask, storage, sensor, server, propeller, builtin, executor's output files, cli's serve
 * command) and the CLI's are one table: a CLI file importing `@flyte-agent/runtime/internal/core/x.js`
 * imports the layer `core`. Arrows point down: nothing imports a layer above it, and the runtime never
 * imports the CLI package (checked apart, see {@link checkLayers}).
 */
export const layers: Readonly<Record<string, readonly string[]>> = {
  gen: [],
  core: ["gen"],
  types: ["core", "gen"],
  task: ["core", "types", "gen"],
  storage: ["core", "gen"],
  sensor: ["core", "types", "task", "storage", "gen"],
  // The server logs what FlytePropeller would misread in an answer: propeller/'s pure findings.
  server: ["propeller", "core", "types", "storage", "sensor", "gen"],
  propeller: ["core", "types", "storage", "gen"],
  client: ["core", "types", "storage", "gen"],
  executor: ["propeller", "client", "core", "types", "task", "storage", "gen"],
  conformance: ["propeller", "client", "core", "types", "task", "storage", "gen"],
  deploy: ["propeller", "client", "core", "types", "storage", "gen"],
  builtin: ["core", "types", "task", "sensor", "storage", "gen"],
  scaffold: ["deploy", "core", "types", "gen"],
  // Python code generated from task definitions (`flyte-agent python`).
  python: ["task", "core", "types", "gen"],
  // The testing kit starts a real server for agent tests, through its public entry only.
  testing: [
    "executor",
    "server/index.ts",
    "server/server.ts",
    "core",
    "types",
    "task",
    "sensor",
    "storage",
    "gen",
  ],
  cli: [
    "python",
    "scaffold",
    "deploy",
    "conformance",
    "executor",
    "server",
    "builtin",
    "propeller",
    "client",
    "core",
    "types",
    "task",
    "sensor",
    "storage",
    "gen",
  ],
  "(root)": [
    "server",
    "executor",
    "conformance",
    "scaffold",
    "builtin",
    "core",
    "types",
    "task",
    "sensor",
    "storage",
    "gen",
  ],
};

/**
 * Imports that break the layering today and are being removed by changes in progress. Each entry is
 * `importer -> imported` (paths under src/); delete it when its import is gone: the check fails on
 * an entry that no longer matches anything, so the list only shrinks.
 */
export const pendingViolations: readonly string[] = [];

/** One import that the layering forbids. */
export interface Violation {
  /** `importer -> imported`, both relative to src/. */
  readonly edge: string;
  readonly reason: string;
}

/** The folder (layer) of a path relative to a package's src/. */
export function layerOf(file: string): string {
  const parts = file.split("/");
  return parts.length === 1 ? "(root)" : parts[0]!;
}

/** Every import of one source text, as written (`../server/server.js`, `@flyte-agent/runtime`). */
export function allImportsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** The relative imports of one source text, as written (`../server/server.js`). */
export function importsOf(source: string): string[] {
  return allImportsOf(source).filter((name) => name.startsWith("."));
}

/** Which package a set of sources is: the runtime never imports the CLI. */
export type PackageName = "runtime" | "cli";

const RUNTIME = "@flyte-agent/runtime";
/** The runtime's entries, as files of packages/runtime/src/. */
const runtimeEntries: Readonly<Record<string, string>> = {
  [RUNTIME]: "index.ts",
  [`${RUNTIME}/server`]: "server/index.ts",
  [`${RUNTIME}/flyteidl`]: "flyteidl.ts",
};

/**
 * The file (relative to its package's src/) that `spec`, written in `file`, imports when it is one of
 * the project's own modules; undefined for npm packages and node: modules. A CLI file reaches the
 * runtime through its package name, so its targets are runtime paths then.
 */
function targetOf(file: string, spec: string, pkg: PackageName): string | undefined {
  if (spec.startsWith(".")) {
    return path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, ".ts");
  }
  if (pkg === "cli") {
    if (runtimeEntries[spec]) return runtimeEntries[spec];
    if (spec.startsWith(`${RUNTIME}/internal/`)) {
      return spec.slice(`${RUNTIME}/internal/`.length).replace(/\.js$/, ".ts");
    }
  }
  return undefined;
}

/**
 * Checks the imports of `files` (path relative to the package's src/ → source text) against
 * {@link layers}. In the runtime, any import of the CLI package (`flyte-agent`, or a path out of
 * packages/runtime/src/) is a violation; in the CLI, a relative path into the runtime is one (the CLI
 * imports `@flyte-agent/runtime/internal/*`, so each module has one copy). Test files (`*.test.ts`)
 * are skipped: a test may reach across layers to set its scene up.
 */
export function checkLayers(files: ReadonlyMap<string, string>, pkg: PackageName = "cli"): Violation[] {
  const violations: Violation[] = [];
  for (const [file, source] of files) {
    if (file.endsWith(".test.ts")) continue;
    const from = layerOf(file);
    const allowed = layers[from];
    if (!allowed) {
      violations.push({
        edge: file,
        reason: `${from} is not in the layer table (test/support/layers.ts): add it where it belongs`,
      });
      continue;
    }
    for (const spec of allImportsOf(source)) {
      if (pkg === "runtime" && /^flyte-agent(\/|$)/.test(spec)) {
        violations.push({ edge: `${file} -> ${spec}`, reason: "the runtime never imports the CLI package" });
        continue;
      }
      const target = targetOf(file, spec, pkg);
      if (target === undefined) continue;
      if (target.startsWith("..")) {
        violations.push({
          edge: `${file} -> ${spec}`,
          reason:
            pkg === "runtime"
              ? "the runtime never imports the CLI package"
              : `import the runtime as ${RUNTIME}/internal/*, not by a path into packages/`,
        });
        continue;
      }
      const to = layerOf(target);
      if (to === from || allowed.includes(to) || allowed.includes(target)) continue;
      violations.push({ edge: `${file} -> ${target}`, reason: `${from} may not import ${to}` });
    }
  }
  return violations;
}
/** Every .ts file under `srcDir`, keyed by its path relative to it. */
export function readSources(srcDir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules" && entry.name !== "dist") walk(full);
      } else if (entry.name.endsWith(".ts")) {
        out.set(path.relative(srcDir, full).split(path.sep).join("/"), readFileSync(full, "utf8"));
      }
    }
  };
  walk(srcDir);
  return out;
}
