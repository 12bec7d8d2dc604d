import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const project = fileURLToPath(new URL("..", import.meta.url));
const bin = join(
  dirname(createRequire(import.meta.url).resolve("flyte-agent/package.json")),
  "bin/flyte-agent.js",
);

// python/ holds the flytekit task classes Python workflows import. They are generated from
// src/task.ts: after changing a task, run `npm run python` and commit the result.
it("python/ is up to date with src/task.ts (npm run python regenerates it)", () => {
  const out = execFileSync(
    process.execPath,
    [bin, "python", "src/task.ts", "--out", "python", "--package", "starter_name_agents", "--check"],
    { cwd: project, encoding: "utf8" },
  );
  expect(out).toContain("up to date");
  // A CLI start that loads the task file with tsx: seconds, more on a busy machine.
}, 60_000);
