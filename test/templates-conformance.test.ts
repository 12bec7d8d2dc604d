// Each `new` template serves Flyte 1 and Flyte 2 out of the box: its agent module, served by one
// `serve agent` process, passes `conformance` for both protocols with its own task. Runs the built
// CLI (`npm run build` first); in the slow suite (`npm run test:slow`): the async job alone takes 1 s.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConformanceReport } from "../src/conformance/index.js";
import { bin, root, type ServeProcess, startServeProcess } from "./support/serve-process.js";

const kinds = ["async", "sync", "sensor"] as const;

describe("the templates' agents under conformance, Flyte 1 and Flyte 2 from one process each", () => {
  let dir = "";
  const servers = new Map<(typeof kinds)[number], ServeProcess>();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "templates-conformance-"));
    await Promise.all(
      kinds.map(async (kind) => {
        const server = await startServeProcess([
          "agent",
          "--port",
          "0",
          "--host",
          "127.0.0.1",
          "--no-prometheus",
          "--no-discover",
          "--modules",
          `templates/${kind}/src/agent.ts`,
        ]);
        servers.set(kind, server);
      }),
    );
  });
  afterAll(async () => {
    for (const s of servers.values()) s.child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });

  it.concurrent.each(kinds)("%s: passes for both protocols", async (kind) => {
    const object = join(dir, `${kind}.object`);
    await writeFile(object, "");
    const inputs: Record<(typeof kinds)[number], string[]> = {
      async: ["--message", "hello", "--repeat", "2"],
      sync: ["--amount", "10", "--from", "EUR", "--to", "USD"],
      sensor: ["--path", object],
    };
    const r = await execa(
      "node",
      [
        bin,
        "conformance",
        "--endpoint",
        servers.get(kind)!.address,
        "--task-file",
        `templates/${kind}/src/task.ts`,
        "--poll-interval",
        "20ms",
        "--json",
        ...inputs[kind],
      ],
      { cwd: root, reject: false, env: { NO_COLOR: "1" } },
    );
    const report = JSON.parse(r.stdout) as ConformanceReport;
    const failed = report.checks.filter((c) => c.status === "fail").map((c) => `${c.id}: ${c.evidence}`);
    expect(failed).toEqual([]);
    expect(report.protocols).toEqual({ flyte1: "served", flyte2: "served" });
    const passed = (id: string) => report.checks.find((c) => c.id === id)?.status;
    expect(passed("task.result")).toBe("pass");
    expect(passed("v2.task.result")).toBe("pass");
    expect(passed("v2.connection")).toBe("pass");
    expect(passed("v2.secrets")).toBe("pass");
    expect(r.exitCode).toBe(0);
  });
});
