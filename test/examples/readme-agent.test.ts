/**
 * The README's "Writing an agent" example, exactly as printed: type-checked under the templates'
 * tsconfig (strict) and run to SUCCEEDED through the real CLI.
 */
import { execa } from "execa";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readmeBlock } from "../support/readme.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));

describe("the README's agent", () => {
  let dir = "";
  let file = "";
  beforeAll(async () => {
    // Inside the checkout, so `flyte-agent` resolves to this package (its own name) and zod to its copy.
    dir = await mkdtemp(join(repo, ".readme-agent-"));
    file = join(dir, "word-count.ts");
    await writeFile(file, await readmeBlock("## Writing an agent", "ts"));
    const template = JSON.parse(await readFile(join(repo, "templates/async/tsconfig.json"), "utf8")) as {
      compilerOptions: Record<string, unknown>;
    };
    await writeFile(
      join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { ...template.compilerOptions, noEmit: true }, include: ["*.ts"] }),
    );
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("type-checks under the template's strict tsconfig", async () => {
    const r = await execa(join(repo, "node_modules/.bin/tsc"), ["-p", dir], { reject: false, all: true });
    expect(r.all).toBe("");
    expect(r.exitCode).toBe(0);
  }, 60_000);

  it("runs to SUCCEEDED with the counted words", async () => {
    const r = await execa(
      "node",
      [
        join(repo, "bin/flyte-agent.js"),
        "run",
        file,
        "--text",
        "hello flyte agents",
        "--delaySeconds",
        "0.2",
      ],
      { cwd: repo, reject: false, env: { NO_COLOR: "1" } },
    );
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/SUCCEEDED/);
    expect(r.stdout).toMatch(/words: 3/);
  });
});
