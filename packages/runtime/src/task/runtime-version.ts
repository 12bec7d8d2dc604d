import { readFileSync } from "node:fs";

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: unknown;
    };
    return typeof pkg.version === "string" ? pkg.version : "0.1.0";
  } catch {
    return "0.1.0";
  }
}

/** The version written to `TaskMetadata.runtime.version`: this package's version, or `0.1.0` if unreadable. */
export const runtimeVersion: string = readVersion();

/** The flavor written to `TaskMetadata.runtime.flavor` (flytekit writes `python`). */
export const RUNTIME_FLAVOR = "typescript";
