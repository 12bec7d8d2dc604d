import { type ResultPromise, execa } from "execa";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;
const bin = join(root, "bin/flyte-agent.js");
const tasks = join(root, "test/run/fixtures/tasks.ts");
const single = join(root, "test/run/fixtures/single.ts");
const serveScript = join(root, "test/run/fixtures/serve.ts");
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

function run(args: string[]) {
  return execa("node", [bin, "run", ...args], { reject: false, cwd: root });
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

const servers: ResultPromise[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.kill("SIGKILL");
});

async function startServer(port: number, ...types: string[]): Promise<number> {
  const child = execa("node", ["--import", "tsx", serveScript, String(port), ...types], {
    cwd: root,
    reject: false,
  });
  servers.push(child);
  const line = await waitForLine(child, (l) => l.startsWith("listening "));
  return Number(line.split(" ")[1]);
}

describe("flyte-agent run", () => {
  it("runs an async task in-process and prints the inline outputs", async () => {
    const r = await run([tasks, "doubler", "--n", "21", ...fast]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/SUCCEEDED/);
    expect(r.stdout).toMatch(/doubled: 42/);
  });

  it("removes its temp dir at the end unless --keep is given (then says where it is)", async () => {
    const tmp = tempDir();
    const env = { TMPDIR: tmp };
    const plain = await execa("node", [bin, "run", single, "--n", "5", ...fast], {
      reject: false,
      cwd: root,
      env,
    });
    expect(plain.exitCode).toBe(0);
    // (tsx keeps its compile cache in TMPDIR too; only the run's own directories count.)
    const runDirs = () => readdirSync(tmp).filter((e) => e.startsWith("flyte-agent-run-"));
    expect(runDirs()).toEqual([]);
    const kept = await execa("node", [bin, "run", single, "--n", "5", "--keep", ...fast], {
      reject: false,
      cwd: root,
      env,
    });
    expect(kept.exitCode).toBe(0);
    const left = runDirs();
    expect(left).toHaveLength(1);
    expect(kept.stdout + kept.stderr).toContain(`inputs and outputs kept in ${join(tmp, left[0]!)}`);
    expect(readdirSync(join(tmp, left[0]!))).toContain("inputs");
  });

  it("shows the agent's logs and the stack of its exception on stderr; -q hides them, LOG_LEVEL filters", async () => {
    const file = join(root, "test/run/fixtures/logging-agent.ts");
    const args = ["run", file, "--retries", "0", ...fast];
    const shown = await execa("node", [bin, ...args], { reject: false, cwd: root, env: { LOG_LEVEL: "" } });
    expect(shown.exitCode).toBe(1);
    const logs = shown.stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { level: string; msg: string; err?: { stack?: string } });
    expect(logs.find((l) => l.msg === "about to fail")).toMatchObject({ level: "info" });
    const failure = logs.find((l) => l.level === "error");
    expect(failure?.err?.stack).toMatch(/kaput in create\n\s+at BoomAgent\.create .*logging-agent\.ts/);
    const quiet = await execa("node", [bin, ...args, "-q"], { reject: false, cwd: root });
    expect(quiet.exitCode).toBe(1);
    expect(quiet.stderr).not.toMatch(/about to fail|kaput in create\n/);
    const errorsOnly = await execa("node", [bin, ...args], {
      reject: false,
      cwd: root,
      env: { LOG_LEVEL: "error" },
    });
    expect(errorsOnly.stderr).not.toMatch(/about to fail/);
    expect(errorsOnly.stderr).toMatch(/"level":"error"/);
  });

  it("finds the only task of a file and reports outputs as JSON", async () => {
    const r = await run([single, "--n", "5", "--json", ...fast]);
    expect(r.exitCode).toBe(0);
    const res = result(r.stdout);
    expect(res).toMatchObject({ phase: "SUCCEEDED", succeeded: true, outputs: { doubled: 10 }, attempts: 1 });
    expect(lines(r.stdout).some((l) => l.type === "phase" && l.phase === "SUCCEEDED")).toBe(true);
  });

  it("lists the task's inputs with their types after the file with --help", async () => {
    const r = await run([tasks, "doubler", "--help"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/--n <int>\s+required\s+the number to double/);
    expect(r.stdout).toMatch(/--delay_ms <int>\s+optional/);
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
    expect(which.stderr).toMatch(/name one of: custom, doubler, syncDoubler/);
  });

  it("reads outputs the job wrote to outputs.pb", async () => {
    const r = await run([tasks, "doubler", "--n", "4", "--mode", "outputs-file", "--json", ...fast]);
    expect(r.exitCode).toBe(0);
    expect(result(r.stdout).outputs).toEqual({ doubled: 8 });
  });

  it("fails on error.pb even though the agent said SUCCEEDED", async () => {
    const r = await run([tasks, "doubler", "--n", "4", "--mode", "error-file", "--json", ...fast]);
    expect(r.exitCode).toBe(1);
    expect(result(r.stdout)).toMatchObject({
      phase: "FAILED",
      code: "JobCrashed",
      message: "the job wrote error.pb",
    });
  });

  it("fails retryably with OutputsNotFound when declared outputs are nowhere", async () => {
    const r = await run([
      tasks,
      "doubler",
      "--n",
      "4",
      "--mode",
      "missing",
      "--json",
      "--retries",
      "0",
      ...fast,
    ]);
    expect(r.exitCode).toBe(1);
    expect(result(r.stdout)).toMatchObject({ phase: "RETRYABLE_FAILED", code: "OutputsNotFound" });
    expect(lines(r.stdout).some((l) => l.type === "warning" && l.rule === "outputs-missing")).toBe(true);
  });

  it("honours agent_error.code of a FAILED sync answer", async () => {
    const r = await run([tasks, "syncDoubler", "--n", "2", "--fail", "--json"]);
    expect(r.exitCode).toBe(1);
    expect(result(r.stdout)).toMatchObject({
      phase: "FAILED",
      code: "QuotaExceeded",
      message: "failed to run the job: quota exhausted",
    });
  });

  it("runs a sync task to success", async () => {
    const r = await run([tasks, "syncDoubler", "--n", "6", "--json"]);
    expect(r.exitCode).toBe(0);
    expect(result(r.stdout).outputs).toEqual({ doubled: 12 });
  });

  it("re-runs a RETRYABLE_FAILED attempt with a new output prefix while retries last", async () => {
    const marker = join(tempDir(), "marker");
    const ok = await run([
      tasks,
      "doubler",
      "--n",
      "2",
      "--mode",
      "flaky",
      "--marker",
      marker,
      "--retries",
      "2",
      "--json",
      ...fast,
    ]);
    expect(ok.exitCode).toBe(0);
    expect(result(ok.stdout)).toMatchObject({ attempts: 3, outputs: { doubled: 2 } });
    const creates = readFileSync(marker, "utf8")
      .split("\n")
      .filter((l) => l.startsWith("create "))
      .map((l) => JSON.parse(l.slice(7)) as { attempt: number; prefix: string; namespace: string });
    expect(creates.map((c) => c.attempt)).toEqual([0, 1, 2]);
    expect(new Set(creates.map((c) => c.prefix)).size).toBe(3);
    expect(creates[0]!.namespace).toBe("flytesnacks-development");

    const spent = await run([
      tasks,
      "doubler",
      "--n",
      "5",
      "--mode",
      "flaky",
      "--retries",
      "1",
      "--json",
      ...fast,
    ]);
    expect(spent.exitCode).toBe(1);
    expect(result(spent.stdout)).toMatchObject({
      phase: "RETRYABLE_FAILED",
      attempts: 2,
      code: "TaskFailedWithError",
    });
  });

  it("reads an empty Resource as a retryable failure and warns about the missing phase", async () => {
    const r = await run([tasks, "doubler", "--n", "1", "--mode", "empty", "--json", ...fast]);
    expect(r.exitCode).toBe(1);
    expect(result(r.stdout)).toMatchObject({ phase: "RETRYABLE_FAILED", message: "failed to run the job: " });
    expect(lines(r.stdout).some((l) => l.type === "warning" && l.rule === "phase-unset")).toBe(true);
  });

  it("turns contract warnings into failure with --strict", async () => {
    const loose = await run([tasks, "doubler", "--n", "1", "--delay_ms", "50", "--json", ...fast]);
    expect(loose.exitCode).toBe(0);
    expect(
      lines(loose.stdout).some((l) => l.type === "warning" && l.rule === "running-message-dropped"),
    ).toBe(true);
    const strict = await run([
      tasks,
      "doubler",
      "--n",
      "1",
      "--delay_ms",
      "50",
      "--strict",
      "--json",
      ...fast,
    ]);
    expect(strict.exitCode).toBe(1);
    expect(result(strict.stdout)).toMatchObject({ code: "ContractWarning" });
  });

  it("deletes a running task when --timeout passes and exits non-zero", async () => {
    const marker = join(tempDir(), "marker");
    const r = await run([
      tasks,
      "doubler",
      "--n",
      "1",
      "--mode",
      "forever",
      "--marker",
      marker,
      "--timeout",
      "300ms",
      "--json",
      ...fast,
    ]);
    expect(r.exitCode).toBe(1);
    expect(result(r.stdout)).toMatchObject({ phase: "ABORTED", interrupted: "timeout", code: "Timeout" });
    expect(readFileSync(marker, "utf8")).toMatch(/^delete /m);
    expect(lines(r.stdout).some((l) => l.type === "delete" && l.ok === true)).toBe(true);
  });

  it("sends DeleteTask on Ctrl-C and exits 130", async () => {
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
    expect(readFileSync(marker, "utf8")).toMatch(/^delete /m);
    expect(result(String(r.stdout))).toMatchObject({ phase: "ABORTED", interrupted: "interrupted" });
  });

  it("completes a task across an agent server restart (resource_meta is all the state)", async () => {
    const dir = tempDir();
    const done = join(dir, "done");
    const port = await startServer(0, "fx_async");
    const child = execa(
      "node",
      [
        bin,
        "run",
        tasks,
        "doubler",
        "--n",
        "7",
        "--mode",
        "done-file",
        "--marker",
        done,
        "--endpoint",
        `127.0.0.1:${port}`,
        "--json",
        ...fast,
      ],
      { cwd: root, reject: false },
    );
    await waitForLine(child, (l) => l.includes('"phase":"RUNNING"'));
    servers.shift()!.kill("SIGKILL");
    await waitForLine(child, (l) => l.includes('"type":"get-error"'));
    await startServer(port, "fx_async");
    writeFileSync(done, "");
    const r = await child;
    expect(r.exitCode).toBe(0);
    expect(result(String(r.stdout)).outputs).toEqual({ doubled: 14 });
    expect(existsSync(done)).toBe(true);
  });

  it("routes as a propeller configmap says: defaultAgent, agents and agentForTaskTypes over two servers", async () => {
    const defaultPort = await startServer(0, "fx_async");
    const customPort = await startServer(0, "custom_task");
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

    // CreateTask: 300ms on custom_agent: a slow create is a retryable failure, as in propeller.
    const slow = await run([
      tasks,
      "custom",
      "--n",
      "4",
      "--mode",
      "slow-create",
      "--config",
      config,
      "--json",
      ...fast,
    ]);
    expect(slow.exitCode).toBe(1);
    expect(result(slow.stdout)).toMatchObject({ phase: "RETRYABLE_FAILED", code: "DEADLINE_EXCEEDED" });
  });

  it("reports a bad configmap key and exits 2", async () => {
    const config = join(tempDir(), "bad.yaml");
    writeFileSync(config, "plugins:\n  agent-service:\n    webApi:\n      caching:\n        size: 3\n");
    const r = await run([tasks, "doubler", "--n", "1", "--config", config]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/plugins\.agent-service\.webApi\.caching\.size/);
  });
});
