// The import rules of the layering in ARCHITECTURE.md, and a checker that reads every import (static,
// dynamic, re-export, type-only) of the files under src/.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

/**
 * What each folder of src/ may import besides itself: a folder name, or one file of a folder
 * (`"server/index.ts"`) when only that entry is public to the importer. `"(root)"` is packages/runtime/src/index.ts.
 * Arrows point down: nothing imports a layer above it.
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

/** The folder (layer) of a path relative to src/. */
export function layerOf(file: string): string {
  const parts = file.split("/");
  return parts.length === 1 ? "(root)" : parts[0]!;
}

/** The relative imports of one source text, as written (`../server/server.js`). */
export function importsOf(source: string): string[] {
  return ts
    .preProcessFile(source, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((name) => name.startsWith("."));
}

/**
 * Checks the imports of `files` (path relative to src/ → source text) against {@link layers}.
 * Test files (`*.test.ts`) are skipped: a test may reach across layers to set its scene up.
 */
export function checkLayers(files: ReadonlyMap<string, string>): Violation[] {
  const violations: Violation[] = [];
  for (const [file, source] of files) {
    if (file.endsWith(".test.ts")) continue;
    const from = layerOf(file);
    const allowed = layers[from];
    if (!allowed) {
      violations.push({
        edge: file,
        reason: `src/${from}/ is not in the layer table (test/support/layers.ts): add it where it belongs`,
      });
      continue;
    }
    for (const spec of importsOf(source)) {
      const target = path.posix
        .normalize(path.posix.join(path.posix.dirname(file), spec))
        .replace(/\.js$/, ".ts");
      if (target.startsWith("..")) continue;
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
