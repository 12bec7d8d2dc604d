import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConformanceReport } from "../../src/conformance/index.js";
import { type FakeChatServer, startFakeChatServer } from "../../examples/chat/src/fake-chat-server.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { bin, root, type ServeProcess, startServeProcess } from "../support/serve-process.js";
import { allFaults, startBrokenServer } from "./fixtures/broken-server.js";

// The examples are served and checked by the built binaries (`npm run build` first; `npm test` does
// it): the smoke test of `serve` and `conformance` together. The other cases run the CLI's main
// in-process against servers in this process.
const fast = ["--poll-interval", "20ms"];

/** `flyte-agent conformance` through the binary. */
function conformanceBinary(args: readonly string[]) {
  return execa("node", [bin, "conformance", ...args], { cwd: root, reject: false, env: { NO_COLOR: "1" } });
}

/** `flyte-agent conformance` through the CLI's main, in-process. */
async function conformance(args: readonly string[]) {
  const r = await runCliInProcess(["conformance", ...args], { cwd: root, env: { NO_COLOR: "1" } });
  return { ...r, stdout: r.stdout.replace(/\n$/, ""), stderr: r.stderr.replace(/\n$/, "") };
}

describe("flyte-agent conformance against the examples served by `serve agent`", () => {
  let chatApi: FakeChatServer;
  let server: ServeProcess;
  let endpoint: string;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "conformance-cli-"));
    chatApi = await startFakeChatServer();
    server = await startServeProcess(
      [
        "agent",
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--no-prometheus",
        "--no-discover",
        "--modules",
        "examples/warehouse/src/agent.ts",
        "--modules",
        "examples/chat/src/agent.ts",
        "--modules",
        "examples/file-sensor/src/agent.ts",
      ],
      {
        env: {
          OPENAI_BASE_URL: chatApi.baseUrl,
          _FSEC_OPENAI_API_KEY: "sk-local",
          FLYTE_WAREHOUSE_JOBS_DIR: join(dir, "jobs"),
        },
      },
    );
    endpoint = server.address;
  });
  afterAll(async () => {
    server.child.kill("SIGKILL");
    await chatApi.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("passes for the async, sync and sensor examples", async () => {
    const flag = join(dir, "ready.flag");
    await writeFile(flag, "");
    const [warehouse, chat, sensor] = await Promise.all([
      conformanceBinary([
        "--endpoint",
        endpoint,
        "--task-file",
        "examples/warehouse/task.ts",
        "--version",
        "10",
        ...fast,
      ]),
      conformance([
        "--endpoint",
        endpoint,
        "--task-file",
        "examples/chat/task.ts",
        "--message",
        "hello there",
      ]),
      conformance([
        "--endpoint",
        endpoint,
        "--task-file",
        "examples/file-sensor/task.ts",
        "--path",
        flag,
        "--json",
        ...fast,
      ]),
    ]);
    expect(warehouse.stdout).toMatch(/^PASS {2}get\.idempotent: /m);
    expect(warehouse.stdout).toMatch(new RegExp(`${endpoint} conforms: \\d+ passed, 0 failed`));
    // One process, both protocols, each checked under its own heading and verdict.
    expect(warehouse.stdout).toMatch(/^Flyte 2 — flyteidl2\.connector/m);
    expect(warehouse.stdout).toMatch(/^PASS {2}v2\.get\.terminal: /m);
    expect(warehouse.stdout).toMatch(/^ {2}Flyte 1: conforms \(\d+ passed, 0 failed/m);
    expect(warehouse.stdout).toMatch(/^ {2}Flyte 2: conforms \(\d+ passed, 0 failed/m);
    expect(warehouse.exitCode).toBe(0);
    expect(chat.stdout).toMatch(/^PASS {2}sync\.terminal: /m);
    expect(chat.stdout).toMatch(/^PASS {2}outputs: .*\n {6}inline: answer$/m);
    expect(chat.stdout).toMatch(/^PASS {2}v2\.outputs: /m);
    expect(chat.stdout).toMatch(/^ {2}Flyte 2: conforms/m);
    expect(chat.exitCode).toBe(0);
    const report = JSON.parse(sensor.stdout) as ConformanceReport;
    expect(report.ok).toBe(true);
    expect(report.counts.fail).toBe(0);
    expect(report.checks.find((c) => c.id === "get.terminal")?.evidence).toMatch(/^SUCCEEDED after/);
    expect(report.protocols).toEqual({ flyte1: "served", flyte2: "served" });
    expect(report.checks.find((c) => c.id === "v2.get.terminal")?.evidence).toMatch(/^SUCCEEDED after/);
    expect(sensor.exitCode).toBe(0);
  });
});

describe("flyte-agent conformance against a deliberately broken server", () => {
  let broken: Awaited<ReturnType<typeof startBrokenServer>>;
  let endpoint: string;
  beforeAll(async () => {
    broken = await startBrokenServer(allFaults);
    endpoint = broken.address;
  });
  afterAll(() => {
    broken.close();
  });

  it("prints each failed rule with its evidence and exits 1", async () => {
    const r = await conformance([
      "--endpoint",
      endpoint,
      "--task-file",
      "test/conformance/fixtures/tasks.ts",
      "--task",
      "broken_task",
      "--n",
      "3",
      ...fast,
    ]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(
      "FAIL  create.repeat: CreateTask is safe to repeat: the same request again answers OK and the job ends alike\n" +
        "      the same CreateTask again answered ALREADY_EXISTS: a job already exists for ",
    );
    expect(r.stdout).toMatch(
      /^FAIL {2}delete: .*\n {6}DeleteTask #1 of the first job: NOT_FOUND: job 1 already finished/m,
    );
    expect(r.stdout).toMatch(/^WARN {2}health: /m);
    expect(r.stdout).toMatch(new RegExp(`${endpoint} does not conform: \\d+ passed, 8 failed, 3 warned`));
    expect(r.stderr).toBe("");
  });

  it("checks the server alone without a task", async () => {
    const plain = await conformance(["--endpoint", endpoint, "--json"]);
    const report = JSON.parse(plain.stdout) as ConformanceReport;
    expect(report.checks.map((c) => c.id)).toEqual([
      "health",
      "protocols",
      "list-agents",
      "list-agents.unique",
      "get-agent",
      "get-agent.unknown",
      "unknown-category",
      "response-size",
    ]);
    expect(plain.exitCode).toBe(1);
  });
});

describe("flyte-agent conformance --strict", () => {
  it("exits 0 on warnings alone, and 1 with --strict", async () => {
    const noHealth = await startBrokenServer(["no-health"]);
    try {
      const lenient = await conformance(["--endpoint", noHealth.address]);
      expect(lenient.stdout).toMatch(/conforms: 7 passed, 0 failed, 1 warned/);
      expect(lenient.stdout).toMatch(/^ {2}Flyte 2: not served$/m);
      expect(lenient.exitCode).toBe(0);
      const strict = await conformance(["--endpoint", noHealth.address, "--strict"]);
      expect(strict.exitCode).toBe(1);
      // A Flyte 1-only server fails when Flyte 2 is required.
      const two = await conformance(["--endpoint", noHealth.address, "--flyte", "2"]);
      expect(two.stdout).toMatch(/^FAIL {2}protocols: .*\n.*ListConnectors: UNIMPLEMENTED/m);
      expect(two.exitCode).toBe(1);
    } finally {
      noHealth.close();
    }
  });
});

describe("flyte-agent conformance usage", () => {
  it("asks for an endpoint, refuses inputs without a task file, and exits 2", async () => {
    const none = await conformance([]);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toBe(
      "error: name the agent server to check: flyte-agent conformance --endpoint host:port",
    );
    const stray = await conformance(["--endpoint", "127.0.0.1:1", "--n", "1"]);
    expect(stray.exitCode).toBe(2);
    expect(stray.stderr).toContain("task inputs need --task-file");
    const flyte = await conformance(["--endpoint", "127.0.0.1:1", "--flyte", "3"]);
    expect(flyte.exitCode).toBe(2);
    expect(flyte.stderr).toBe('error: --flyte must be 1, 2 or auto, got "3"');
    const secret = await conformance(["--endpoint", "127.0.0.1:1", "--secret", "tok"]);
    expect(secret.exitCode).toBe(2);
    expect(secret.stderr).toBe('error: --secret takes NAME=VALUE, got "tok"');
  });

  it("lists the task's inputs with --help after --task-file", async () => {
    const r = await conformance([
      "--task-file",
      "test/conformance/fixtures/tasks.ts",
      "--task",
      "inline_task",
      "--help",
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("--endpoint <host:port>");
    expect(r.stdout).toContain("--n <int>  required");
  });
});
