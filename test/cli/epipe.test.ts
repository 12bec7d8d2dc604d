/**
 * `| head` and `| jq` that stop reading: the CLI exits quietly, and a run whose output nobody reads
 * any more still deletes its task (the fixture agent records the DeleteTask it receives). These need
 * the real binary: the pipe is the process's stdout.
 */
import { execa } from "execa";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(repo, "bin/flyte-agent.js");

describe("a reader that goes away", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cli-epipe-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Starts the binary, closes its stdout after the first chunk, and waits for the exit. */
  async function headOne(args: string[], env: Record<string, string> = {}) {
    const child = execa("node", [bin, ...args], {
      cwd: repo,
      env: { NO_COLOR: "1", ...env },
      reject: false,
      buffer: { stdout: false },
    });
    let first = "";
    await new Promise<void>((resolve) => {
      child.stdout.once("data", (chunk: Buffer) => {
        first = chunk.toString().split("\n")[0]!;
        child.stdout.destroy();
        resolve();
      });
    });
    return { first, result: await child };
  }

  it("run <file> --help | head: no EPIPE trace, exit 0", async () => {
    const { first, result } = await headOne(["run", "examples/warehouse/task.ts", "--help"]);
    expect(first).toMatch(/^Usage: flyte-agent run/);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
  });

  it("run --json | head -1: exits 141 quietly after deleting the task", async () => {
    const marker = join(dir, "marker");
    // A task that runs until deleted; -q: the agent's own logs would go to stderr, which must
    // otherwise stay empty here.
    const { first, result } = await headOne([
      "run",
      "test/run/fixtures/tasks.ts",
      "doubler",
      ...["--n", "1", "--mode", "forever", "--marker", marker],
      ...["--json", "-q", "--poll-interval", "20ms"],
    ]);
    expect(JSON.parse(first)).toMatchObject({ type: "started" });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(141);
    // DeleteTask reached the agent.
    expect(await readFile(marker, "utf8")).toMatch(/^delete /m);
  });
});
