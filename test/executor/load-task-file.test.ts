import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

// Runs the built binary (`npm test` builds first): inside vitest, dynamic imports go through vitest's
// own module graph, so only a real process shows how task files and --modules are loaded.
const bin = fileURLToPath(new URL("../../bin/flyte-agent.js", import.meta.url));
const fixtures = fileURLToPath(new URL("./fixtures", import.meta.url));

describe("flyte-agent run loading modules", () => {
  it("runs a module once when it is given with --modules and also imported by the task file", async () => {
    const r = await execa(
      "node",
      [bin, "run", "counting-task.ts", "--modules", "./counting-agent.ts", "--json"],
      {
        cwd: fixtures,
        reject: false,
      },
    );
    expect(r.stderr).not.toContain("Duplicate connector");
    expect(r.exitCode).toBe(0);
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { phase?: string };
    expect(result.phase).toBe("SUCCEEDED");
  });
});
