import { rmSync } from "node:fs";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { type ResultPromise, execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkConformance, type ConformanceReport } from "../../src/conformance/index.js";
import { compilePythonProtos, python, pythonSkipReason } from "../python/python-protos.js";
import { pyAsyncTask, pySyncTask } from "./fixtures/tasks.js";

const root = new URL("../..", import.meta.url).pathname;

const failures = (report: ConformanceReport) =>
  report.checks.filter((c) => c.status === "fail").map((c) => `${c.id}: ${c.evidence}`);

describe.skipIf(pythonSkipReason !== undefined)(
  `flyte-agent conformance against an agent server written in Python${pythonSkipReason ? ` (skipped: ${pythonSkipReason})` : ""}`,
  () => {
    let generated: string;
    let server: ResultPromise;
    let endpoint: string;

    beforeAll(async () => {
      generated = compilePythonProtos();
      server = execa(python!, [join(root, "test/python/agent_server.py"), generated], { reject: false });
      const port = await new Promise<string>((resolve, reject) => {
        createInterface({ input: server.stdout! }).on("line", (line) => {
          if (line.startsWith("listening ")) resolve(line.slice("listening ".length));
        });
        void server.then((r) => reject(new Error(`the Python server exited: ${String(r.stderr)}`)));
      });
      endpoint = `127.0.0.1:${port}`;
    });
    afterAll(() => {
      server?.kill("SIGKILL");
      if (generated) rmSync(generated, { recursive: true, force: true });
    });

    it("passes the async lifecycle, with only a warning for the missing health service", async () => {
      const report = await checkConformance({
        endpoint,
        task: pyAsyncTask,
        inputs: { n: 5 },
        pollIntervalMs: 5,
      });
      expect(failures(report)).toEqual([]);
      expect(report.checks.filter((c) => c.status === "warn").map((c) => c.id)).toEqual(["health"]);
      expect(report.checks.find((c) => c.id === "outputs")?.evidence).toBe("inline: doubled");
      // The job answers RUNNING twice, then SUCCEEDED: counted calls, not elapsed time.
      expect(report.checks.find((c) => c.id === "get.terminal")?.evidence).toMatch(
        /^SUCCEEDED after 3 GetTask call\(s\)/,
      );
      expect(report.checks.find((c) => c.id === "get-agent")?.evidence).toBe("2 agent(s) match ListAgents");
    });

    it("passes the sync path through ExecuteTaskSync", async () => {
      const report = await checkConformance({ endpoint, task: pySyncTask, inputs: { text: "py" } });
      expect(failures(report)).toEqual([]);
      expect(report.checks.find((c) => c.id === "sync.terminal")?.status).toBe("pass");
    });
  },
);
