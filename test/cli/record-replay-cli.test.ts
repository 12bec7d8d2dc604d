import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTask } from "../../packages/runtime/src/task/index.js";
import { clients, unary } from "../server/helpers.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { root, startServeProcess } from "../support/serve-process.js";

// `serve agent --record` runs as the built binary (`npm run build` first; `npm test` does it), so
// that SIGTERM drains it; the other commands run the CLI's main in-process.
const fixture = "test/server/fixtures/agents.ts";
const jobTask = defineTask({
  name: "job",
  taskType: "job",
  inputs: { n: z.number().int() },
  outputs: { id: z.string(), n: z.number().int() },
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "flyte-agent-record-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCliInProcess(args, { cwd: root });

describe("serve agent --record and run --replay", () => {
  it("records a CreateTask served by `serve agent` and replays it in-process with `run --replay`", async () => {
    const records = join(dir, "records");
    const server = await startServeProcess([
      "agent",
      ...["--port", "0", "--host", "127.0.0.1", "--no-prometheus", "--no-discover", "--no-banner"],
      ...["-m", fixture, "--record", records, "--record-max-files", "10"],
    ]);
    const c = clients(server.address);
    try {
      await unary(c.async.createTask.bind(c.async), {
        inputs: jobTask.encodeInputs({ n: 4 }),
        template: jobTask.template(),
        outputPrefix: "s3://bucket/out/0",
        taskExecutionMetadata: undefined,
      });
    } finally {
      c.close();
      server.child.kill("SIGTERM");
    }
    // A drained server has written every request it served.
    expect((await server.child).exitCode).toBe(0);
    const files = await readdir(records);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{8}T\d{9}Z-create-job-[0-9a-f]{8}\.pb$/);

    const replay = await cli([
      "run",
      "--replay",
      join(records, files[0]!),
      ...["--modules", fixture, "--json", "--poll-interval", "5ms", "--output-dir", join(dir, "out")],
    ]);
    expect(replay.stderr).toBe("");
    expect(replay.exitCode).toBe(0);
    const result = JSON.parse(replay.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
    expect(result).toMatchObject({ type: "result", succeeded: true, outputs: { id: "job-4", n: 3 } });
  });

  it("refuses a record directory that cannot be written: one sentence, exit 2", async () => {
    const file = join(dir, "plain-file");
    await writeFile(file, "");
    const r = await cli([
      "serve",
      "agent",
      "--port",
      "0",
      "--no-prometheus",
      "--no-discover",
      "--builtin",
      "sensor",
      "--record",
      join(file, "sub"),
    ]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual([
      `error: cannot write request records to ${join(file, "sub")} (ENOTDIR): choose a writable --record directory`,
    ]);
  });

  it("refuses record bounds without --record or below 1", async () => {
    const noDir = await cli(["serve", "agent", "--no-prometheus", "--record-max-files", "5"]);
    expect(noDir.exitCode).toBe(2);
    expect(noDir.stderr.trim()).toBe("error: --record-max-files and --record-max-bytes need --record <dir>");
    const zero = await cli(["serve", "agent", "--no-prometheus", "--record", dir, "--record-max-bytes", "0"]);
    expect(zero.exitCode).toBe(2);
    expect(zero.stderr.trim()).toBe("error: --record-max-files and --record-max-bytes must be at least 1");
  });

  it("refuses to replay a file that is not a recorded request: one sentence, exit 2", async () => {
    const file = join(dir, "not-a-request.pb");
    await writeFile(file, "hello, I am text");
    const r = await cli(["run", "--replay", file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^error: .*not-a-request\.pb is not a request recorded by `flyte-agent serve --record` \(/,
    );
  });
});
