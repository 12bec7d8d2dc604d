import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { GeneratedFile } from "./generate-python.js";

/** What {@link writePythonPackage} did, or (with `check`) found out of date. */
export interface WritePythonResult {
  /** Paths (relative to the output directory) that were written, or that differ / are missing with `check`. */
  readonly changed: readonly string[];
}

async function current(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Writes the generated files under `outDir`, leaving files whose contents are unchanged alone; with
 * `check`, writes nothing and reports which files are missing or differ (a drift check, as `src/gen`'s).
 * Every file is written to a temporary name first and renamed, so no file is left half-written.
 */
export async function writePythonPackage(
  files: readonly GeneratedFile[],
  outDir: string,
  options: { readonly check?: boolean } = {},
): Promise<WritePythonResult> {
  const changed: string[] = [];
  for (const file of files) {
    const path = join(outDir, file.path);
    if ((await current(path)) === file.contents) continue;
    changed.push(file.path);
    if (options.check) continue;
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, file.contents);
    await rename(tmp, path);
  }
  return { changed };
}
