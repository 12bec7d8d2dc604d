import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const built = fileURLToPath(new URL("../../dist/core/import-module.js", import.meta.url));

/**
 * Imports `file` with the built module in a plain Node process: the test runner's own module loader
 * would stand in for Node's, whose CommonJS/ESM decision is what is tested. Prints `y` or the error.
 */
function importModuleFile(file: string, module = built): string {
  const script =
    `const { importModuleFile } = await import(${JSON.stringify(module)});\n` +
    `try { console.log((await importModuleFile(${JSON.stringify(file)})).y); } catch (e) { console.log(e.message); }`;
  return execFileSync(process.execPath, ["--input-type=module", "-e", script]).toString().trim();
}

describe("importModuleFile", () => {
  const dirs: string[] = [];
  const project = (packageJson?: object): string => {
    const dir = mkdtempSync(join(tmpdir(), "import-module-"));
    dirs.push(dir);
    if (packageJson) writeFileSync(join(dir, "package.json"), JSON.stringify(packageJson));
    writeFileSync(join(dir, "dep.mjs"), "export const x = 1;\n");
    const source = 'import { x } from "./dep.mjs";\nexport const y: number = x + 1;\n';
    writeFileSync(join(dir, "task.ts"), source);
    writeFileSync(join(dir, "task.mts"), source);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("says in one sentence what to change for a .ts file outside an ESM package", () => {
    const dir = project({ name: "not-esm" });
    expect(importModuleFile(join(dir, "task.ts"))).toBe(
      `${join(dir, "task.ts")} is loaded as CommonJS because its package is not "type": "module"; ` +
        `add "type": "module" to ${join(dir, "package.json")}, or rename the file to task.mts`,
    );
  });

  it("loads the same file inside an ESM package, and as .mts anywhere", () => {
    expect(importModuleFile(join(project({ type: "module" }), "task.ts"))).toBe("2");
    expect(importModuleFile(join(project({ name: "not-esm" }), "task.mts"))).toBe("2");
  });

  it("says in one sentence that a .ts module needs tsx where only the runtime is installed", () => {
    // The built runtime alone in a temp dir: no node_modules above it, so tsx cannot be resolved.
    const runtime = mkdtempSync(join(tmpdir(), "runtime-only-"));
    dirs.push(runtime);
    cpSync(dirname(built), join(runtime, "dist/core"), { recursive: true });
    writeFileSync(join(runtime, "package.json"), JSON.stringify({ type: "module" }));
    const dir = project({ type: "module" });
    const alone = join(runtime, "dist/core/import-module.js");
    expect(importModuleFile(join(dir, "task.ts"), alone)).toBe(
      `${join(dir, "task.ts")} is TypeScript and tsx is not installed: build it to .js, or install flyte-agent to load .ts`,
    );
    // Built JavaScript needs no tsx.
    writeFileSync(join(dir, "task.js"), 'import { x } from "./dep.mjs";\nexport const y = x + 1;\n');
    expect(importModuleFile(join(dir, "task.js"), alone)).toBe("2");
    // With tsx resolvable (this checkout), the same .ts file loads.
    expect(importModuleFile(join(dir, "task.ts"))).toBe("2");
  });
});
