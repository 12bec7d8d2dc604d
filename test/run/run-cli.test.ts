// `flyte-agent run` as a user calls it. The CLI's main runs in-process (the same parsing, rendering
// and exit codes, without a Node process per case); the binary keeps two smoke tests: a run, and
// Ctrl-C (a signal to the process). What the executor does on each path of FlytePropeller's
// contract is tested in run-behaviour.test.ts on an injected clock.
import { type ResultPromise, execa } from "execa";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AgentRegistry } from "../../packages/runtime/src/core/registry.js";
import { AgentServer } from "../../packages/runtime/src/server/index.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { FixtureAgent, FixtureSyncAgent } from "./fixtures/agents.js";

const root = new URL("../..", import.meta.url).pathname;
const bin = join(root, "bin/flyte-agent.js");
const tasks = join(root, "test/run/fixtures/tasks.ts");
const single = join(root, "test/run/fixtures/single.ts");
// Polling is made fast instead of waited on: 5 ms between GetTask calls.
const fast = ["--poll-interval", "5ms"];

interface JsonLine {
  type: string;
  [k: string]: unknown;
}

function lines(stdout: string): JsonLine[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as JsonLine);
}

function result(stdout: string): JsonLine {
  const r = lines(stdout).find((l) => l.type === "result");
  if (!r) throw new Error(`no result in:\n${stdout}`);
  return r;
}

function run(args: string[], env?: Record<string, string | undefined>) {
  return runCliInProcess(["run", ...args], { cwd: root, ...(env ? { env } : {}) });
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "run-test-"));
}

/** Resolves with the first stdout line of `child` that satisfies `match`. */
function waitForLine(child: ResultPromise, match: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split("\n");
      buffer = parts.pop() ?? "";
      for (const line of parts) {
        if (match(line)) {
          child.stdout?.off("data", onData);
          resolve(line);
          return;
        }
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", () => reject(new Error("process exited before the expected line")));
  });
}

// Agent servers that the configmap-routed runs dial, in this process, on loopback ports.
const servers: AgentServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.shutdown(100)));
});

async function startServer(...types: string[]): Promise<number> {
  const registry = new AgentRegistry();
  for (const t of types) registry.register(t === "fx_sync" ? new FixtureSyncAgent() : new FixtureAgent(t));
  const server = await AgentServer.start({ host: "127.0.0.1", port: 0, registry });
  servers.push(server);
  return server.port;
}

describe("flyte-agent run", () => {
  it("runs the only task of a file through the binary, then as JSON", async () => {
    const human = await execa("node", [bin, "run", single, "--n", "21", ...fast], {
      reject: false,
      cwd: root,
    });
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toMatch(/SUCCEEDED/);
    expect(human.stdout).toMatch(/doubled: 42/);
    const r = await run([single, "--n", "5", "--json", ...fast]);
    expect(r.exitCode).toBe(0);
    const res = result(r.stdout);
    expect(res).toMatchObject({ phase: "SUCCEEDED", succeeded: true, outputs: { doubled: 10 }, attempts: 1 });
    expect(lines(r.stdout).some((l) => l.type === "phase" && l.phase === "SUCCEEDED")).toBe(true);
  });

  it("removes its temp dir at the end unless --keep is given (then says where it is)", async () => {
    const tmp = tempDir();
    const env = { TMPDIR: tmp };
    const plain = await run([single, "--n", "5", ...fast], env);
    expect(plain.exitCode).toBe(0);
    // (tsx keeps its compile cache in TMPDIR too; only the run's own directories count.)
    const runDirs = () => readdirSync(tmp).filter((e) => e.startsWith("flyte-agent-run-"));
    expect(runDirs()).toEqual([]);
    // The outputs may point into that directory, so the run says it is gone and how to keep it.
    expect(plain.stdout + plain.stderr).toMatch(
      /are removed now: add --keep or --output-dir <dir> to keep them/,
    );
    const kept = await run([single, "--n", "5", "--keep", ...fast], env);
    expect(kept.exitCode).toBe(0);
    const left = runDirs();
    expect(left).toHaveLength(1);
    expect(kept.stdout + kept.stderr).toContain(`inputs and outputs kept in ${join(tmp, left[0]!)}`);
    expect(readdirSync(join(tmp, left[0]!))).toContain("inputs");
  });

  it("shows the agent's logs and the stack of its exception on stderr; -q hides them, LOG_LEVEL filters", async () => {
    const file = join(root, "test/run/fixtures/logging-agent.ts");
    const args = [file, "--retries", "0", ...fast];
    const shown = await run(args, { LOG_LEVEL: "" });
    expect(shown.exitCode).toBe(1);
    const logs = shown.stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { level: string; msg: string; err?: { stack?: string } });
    expect(logs.find((l) => l.msg === "about to fail")).toMatchObject({ level: "info" });
    const failure = logs.find((l) => l.level === "error");
    expect(failure?.err?.stack).toMatch(/kaput in create\n\s+at BoomAgent\.create .*logging-agent\.ts/);
    const quiet = await run([...args, "-q"]);
    expect(quiet.exitCode).toBe(1);
    expect(quiet.stderr).not.toMatch(/about to fail|kaput in create\n/);
    const errorsOnly = await run(args, { LOG_LEVEL: "error" });
    expect(errorsOnly.stderr).not.toMatch(/about to fail/);
    expect(errorsOnly.stderr).toMatch(/"level":"error"/);
  });

  it("lists the task's inputs with their types after the file with --help", async () => {
    const r = await run([tasks, "doubler", "--help"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/--n <int>\s+required\s+the number to double/);
    expect(r.stdout).toMatch(/--running_polls <int>\s+optional/);
  });

  it("names the input on a bad or missing value and exits 2", async () => {
    const bad = await run([tasks, "doubler", "--n", "abc"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--n/);
    expect(bad.stderr).not.toMatch(/\s+at .*:\d+/);
    const missing = await run([tasks, "doubler"]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/missing input --n \(int\)/);
    const which = await run([tasks, "--n", "1"]);
    expect(which.exitCode).toBe(2);
    // (Node lists a module's exports sorted; vitest's module runner in definition order.)
    const named = /name one of: (.*)$/m.exec(which.stderr)?.[1]?.split(", ");
    expect(named?.sort()).toEqual(["custom", "doubler", "syncDoubler"]);
  });

  it("turns contract warnings into failure with --strict", async () => {
    const loose = await run([tasks, "doubler", "--n", "1", "--running_polls", "1", "--json", ...fast]);
    expect(loose.exitCode).toBe(0);
    expect(
      lines(loose.stdout).some((l) => l.type === "warning" && l.rule === "running-message-dropped"),
    ).toBe(true);
    const strict = await run([
      tasks,
      "doubler",
      "--n",
      "1",
      "--running_polls",
      "1",
      "--strict",
      "--json",
      ...fast,
    ]);
    expect(strict.exitCode).toBe(1);
    expect(result(strict.stdout)).toMatchObject({ code: "ContractWarning" });
  });

  it("sends DeleteTask on Ctrl-C and exits 130 (the binary: a signal to its process)", async () => {
    const marker = join(tempDir(), "marker");
    const child = execa(
      "node",
      [bin, "run", tasks, "doubler", "--n", "1", "--mode", "forever", "--marker", marker, "--json", ...fast],
      {
        cwd: root,
        reject: false,
      },
    );
    await waitForLine(child, (l) => l.includes('"phase":"RUNNING"'));
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode).toBe(130);
    // One DeleteTask, for the task that was created (its resource_meta names the same output prefix);
    // that its bytes are the create's own is tested in-process in faults-executor.test.ts.
    const marks = readFileSync(marker, "utf8").split("\n");
    const created = marks
      .filter((l) => l.startsWith("create "))
      .map((l) => JSON.parse(l.slice(7)) as { prefix: string });
    expect(created).toHaveLength(1);
    expect(marks.filter((l) => l.startsWith("delete "))).toEqual([`delete ${created[0]!.prefix}`]);
    expect(result(String(r.stdout))).toMatchObject({ phase: "ABORTED", interrupted: "interrupted" });
  });

  it("routes as a propeller configmap says: defaultAgent, agents and agentForTaskTypes over two servers", async () => {
    const defaultPort = await startServer("fx_async");
    const customPort = await startServer("custom_task");
    const config = join(tempDir(), "propeller.yaml");
    writeFileSync(
      config,
      `apiVersion: v1
kind: ConfigMap
metadata:
  name: flyte-propeller-config
data:
  agent_service.yaml: |
    plugins:
      agent-service:
        defaultAgent:
          endpoint: "dns:///127.0.0.1:${defaultPort}"
          insecure: true
          timeouts:
            GetTask: 5s
          defaultTimeout: 10s
        agents:
          custom_agent:
            endpoint: "127.0.0.1:${customPort}"
            insecure: true
            defaultServiceConfig: '{"loadBalancingConfig": [{"round_robin":{}}]}'
            timeouts:
              GetTask: 5s
              CreateTask: 300ms
            defaultTimeout: 10s
        agentForTaskTypes:
          - custom_task: custom_agent
`,
    );
    const viaDefault = await run([tasks, "doubler", "--n", "3", "--config", config, "--json", ...fast]);
    expect(viaDefault.exitCode).toBe(0);
    expect(lines(viaDefault.stdout)[0]).toMatchObject({ type: "started", deployment: "defaultAgent" });
    expect(result(viaDefault.stdout).outputs).toEqual({ doubled: 6 });

    const viaCustom = await run([tasks, "custom", "--n", "4", "--config", config, "--json", ...fast]);
    expect(viaCustom.exitCode).toBe(0);
    expect(lines(viaCustom.stdout)[0]).toMatchObject({
      type: "started",
      deployment: "custom_agent",
      via: "agentForTaskTypes",
      endpoint: `127.0.0.1:${customPort}`,
    });
    expect(result(viaCustom.stdout).outputs).toEqual({ doubled: 8 });
  });

  it("loses a map-form ExecuteTaskSync timeout as FlytePropeller does, and says so; the list form works", async () => {
    // viper lowercases map keys (flytestdlib/config/viper/viper.go:268-296), so the map form's
    // ExecuteTaskSync: 10s is not found (agent/client.go:77-83) and defaultTimeout applies (here
    // 300ms rather than Propeller's default 3 s, so that the test waits briefly).
    const port = await startServer("fx_sync");
    const dir = tempDir();
    const configOf = (timeouts: string) => {
      const path = join(dir, `${timeouts.includes("-") ? "list" : "map"}.yaml`);
      writeFileSync(
        path,
        `plugins:\n  agent-service:\n    defaultAgent:\n      endpoint: "127.0.0.1:${port}"\n      defaultTimeout: 300ms\n      timeouts:\n${timeouts}\n`,
      );
      return path;
    };
    const mapForm = configOf("        ExecuteTaskSync: 10s");
    const listForm = configOf("        - ExecuteTaskSync: 10s");
    // A sync job that takes 1 s: past the 300ms default (so the call waits for that deadline), within
    // the 10 s of the list form (so the agent answers at once).
    const args = (config: string) => [
      tasks,
      "syncDoubler",
      "--n",
      "3",
      "--needs_ms",
      "1000",
      "--config",
      config,
    ];
    const lost = await run(args(mapForm));
    const kept = await run([...args(listForm), "--json"]);
    expect(lost.exitCode).toBe(1);
    // The warning names the key and shows the list form; the attempt fails with DEADLINE_EXCEEDED.
    expect(lost.stderr).toMatch(
      /warning \[config\]: plugins\.agent-service\.defaultAgent\.timeouts\.ExecuteTaskSync: /,
    );
    expect(lost.stderr).toMatch(/timeouts:\n\s+- ExecuteTaskSync: 10s/);
    expect(lost.stdout).toMatch(
      /RETRYABLE_FAILED \(TaskFailedWithError\): failed to receive stream from server rpc error: code = DeadlineExceeded desc = context deadline exceeded/,
    );
    expect(kept.exitCode).toBe(0);
    expect(result(kept.stdout).outputs).toEqual({ doubled: 6 });
  });

  it("reports a bad configmap key and exits 2", async () => {
    const config = join(tempDir(), "bad.yaml");
    writeFileSync(config, "plugins:\n  agent-service:\n    webApi:\n      caching:\n        size: 3\n");
    const r = await run([tasks, "doubler", "--n", "1", "--config", config]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/plugins\.agent-service\.webApi\.caching\.size/);
  });

  it("runs the warehouse example through Flyte 2's executor with --flyte 2, and refuses --flyte 3", async () => {
    const dir = tempDir();
    const outputDir = join(dir, "run");
    const r = await execa(
      "node",
      [
        bin,
        "run",
        "examples/warehouse/task.ts",
        "--version",
        "10",
        "--flyte",
        "2",
        "--json",
        "--output-dir",
        outputDir,
      ],
      { reject: false, cwd: root, env: { FLYTE_WAREHOUSE_JOBS_DIR: join(dir, "jobs") } },
    );
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.exitCode).toBe(0);
    const started = lines(r.stdout).find((l) => l.type === "started");
    expect(started).toMatchObject({ deployment: "defaultConnector" });
    expect(result(r.stdout)).toMatchObject({ phase: "SUCCEEDED", attempts: 1 });
    expect(readdirSync(join(outputDir, "attempt-0", "results"))).toEqual(["part-0.parquet"]);
    const bad = await run([single, "--n", "1", "--flyte", "3"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--flyte must be 1 .* or 2 .*, got "3"/);
  });
});
