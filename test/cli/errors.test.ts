/**
 * Every error a newcomer met as a raw library message or a wrong exit code: one sentence naming the
 * file, flag or port and what to do, and the exit code of the README's table (0 ok, 1 failed, 2 usage
 * or configuration, 130 interrupted, 141 output closed). The CLI's `main` runs in-process; the cases
 * marked `binary` (one per command family, and tsx's own error text) run the real binary.
 */
import { execa } from "execa";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliInProcess } from "../support/cli-in-process.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(repo, "bin/flyte-agent.js");
const warehouseTask = join(repo, "examples/warehouse/task.ts");

let dir = "";
let busy: Server;
let busyPort = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-errors-"));
  await writeFile(join(dir, "bad.pem"), "not a certificate\n");
  await writeFile(join(dir, "a-file"), "");
  await writeFile(join(dir, "broken.ts"), "export const x = 1;\nconst y = ;\n");
  await writeFile(join(dir, "broken.yaml"), "plugins:\n  agent-service: [unclosed\n");
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "cli-errors", type: "module" }));
  busy = createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(async () => {
  busy?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const env = { NO_COLOR: "1", LOG_LEVEL: "" };
const runBinary = (args: string[], cwd = dir) =>
  execa("node", [bin, ...args], { cwd, reject: false, env, timeout: 20_000 });
const run = (args: string[], cwd = dir) => runCliInProcess(args, { cwd, env });

interface Case {
  readonly name: string;
  readonly args: () => string[];
  readonly code: number;
  /** The whole of stderr's last line. */
  readonly message: RegExp;
  readonly cwd?: () => string;
  /** Run through the real binary (`bin/flyte-agent.js`) rather than in-process. */
  readonly binary?: boolean;
}

const serveFlags = ["--host", "127.0.0.1", "--port", "0", "--no-prometheus", "--no-banner"];

const cases: Case[] = [
  {
    name: "no command",
    binary: true,
    args: () => [],
    code: 2,
    message: /^ {2}help \[command\] +display help for command$/,
  },
  {
    name: "bare serve",
    args: () => ["serve"],
    code: 2,
    message: /^ {2}help \[command\] +display help for command$/,
  },
  {
    name: "port in use",
    binary: true,
    args: () => ["serve", "agent", "--builtin", "sensor", ...serveFlags, "--port", String(busyPort)],
    code: 1,
    message:
      /^error: port \d+ on 127\.0\.0\.1 is already in use: stop what listens there, or pick another --port \(0 picks a free one\)$/,
  },
  {
    name: "--log-level loud",
    args: () => ["serve", "agent", "--builtin", "sensor", ...serveFlags, "--log-level", "loud"],
    code: 2,
    message: /^error: --log-level must be one of trace, debug, info, warn, error, fatal, silent, got "loud"$/,
  },
  {
    name: "a bad PEM",
    args: () => [
      "serve",
      "agent",
      "--builtin",
      "sensor",
      ...serveFlags,
      "--tls-cert",
      "bad.pem",
      "--tls-key",
      "bad.pem",
    ],
    code: 2,
    message:
      /^error: --tls-cert bad\.pem is not a PEM certificate: give the file that starts with -----BEGIN CERTIFICATE-----$/,
  },
  {
    name: "a syntax error in a -m module (with its line and column)",
    binary: true,
    args: () => ["serve", "agent", ...serveFlags, "-m", "./broken.ts"],
    code: 2,
    message:
      /^error: agent module \.\/broken\.ts \(from --modules\) failed to load: Transform failed with 1 error: \S*broken\.ts:2:10: ERROR: Unexpected ";"$/,
  },
  {
    name: "an unreachable endpoint",
    binary: true,
    args: () => ["run", warehouseTask, "--version", "3", "--endpoint", "127.0.0.1:1"],
    cwd: () => repo,
    code: 1,
    message:
      /^error: no agent server answers at 127\.0\.0\.1:1 \(ECONNREFUSED\): start one \(flyte-agent serve agent\) or fix --endpoint$/,
  },
  {
    name: "deploy --out through a file (ENOTDIR)",
    args: () => ["deploy", "--image", "a:1", "--out", "a-file/x"],
    code: 2,
    message: /^error: --out a-file\/x: \S+\/a-file is a file, not a directory; choose another path$/,
  },
  {
    name: "new --dir through a file (ENOTDIR)",
    args: () => ["new", "x", "--yes", "--dir", "a-file/x"],
    code: 2,
    message: /^error: --dir a-file\/x: \S+\/a-file is a file, not a directory; choose another path$/,
  },
  {
    name: "new --dir /proc/x (no endless loop)",
    args: () => ["new", "x", "--yes", "--dir", "/proc/x"],
    code: 2,
    message: /^error: cannot create --dir \/proc\/x \(ENOENT\): choose a directory you can write to$/,
  },
  {
    name: "deploy --out /proc/x (no endless loop)",
    args: () => ["deploy", "--image", "a:1", "--out", "/proc/x"],
    code: 2,
    message: /^error: cannot create --out \/proc\/x \(ENOENT\): choose a directory you can write to$/,
  },
  {
    name: "-m a,b splits in serve (the second, missing, module is named alone)",
    args: () => [
      "serve",
      "agent",
      ...serveFlags,
      "-m",
      `${join(repo, "test/server/fixtures/agents.ts")},missing.ts`,
    ],
    code: 2,
    message: /^error: .*missing\.ts.*$/,
  },
  {
    name: "--canary without --task-types",
    args: () => ["deploy", "--image", "a:1", "--canary"],
    code: 2,
    message:
      /^error: --canary needs --task-types: name the task types the canary takes over \(e\.g\. --task-types bigquery\)$/,
  },
  {
    name: "a missing --propeller-config",
    args: () => ["deploy", "--image", "a:1", "--propeller-config", "nope.yaml"],
    code: 2,
    message:
      /^error: cannot read --propeller-config nope\.yaml \(ENOENT\): give the FlytePropeller ConfigMap as a YAML file$/,
  },
  {
    name: "a malformed --propeller-config without --task-types",
    args: () => ["deploy", "--image", "a:1", "--propeller-config", "broken.yaml"],
    code: 2,
    message: /^error: --propeller-config broken\.yaml is not valid YAML \(line \d+\): .+$/,
  },
  {
    name: "deploy with a memory limit below the request (nothing printed as valid)",
    args: () => ["deploy", "--image", "a:1", "--memory", "512Mi", "--memory-limit", "256Mi"],
    code: 2,
    message:
      /^error: the memory request 512Mi is above its limit 256Mi: raise the limit or lower the request$/,
  },
  {
    name: "deploy with a PDB above the replicas",
    args: () => ["deploy", "--image", "a:1", "--replicas", "2", "--pdb-min-available", "3"],
    code: 2,
    message: /^error: PodDisruptionBudget minAvailable 3 is not below the 2 replica\(s\)/,
  },
  {
    name: "serve with no agents",
    binary: true,
    args: () => ["serve", "agent", ...serveFlags, "--no-discover"],
    code: 2,
    message:
      /^error: no agents to serve: pass --modules <file> \(a module that registers agents\), declare flyteAgent\.modules in package\.json, or add --builtin sensor$/,
  },
];

describe("errors and exit codes of the binary", () => {
  it.each(cases)("$name → exit $code", async (c) => {
    const r = await (c.binary ? runBinary : run)(c.args(), c.cwd?.() ?? dir);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines.at(-1)).toMatch(c.message);
    expect(r.exitCode).toBe(c.code);
    // Nothing half-done on stdout (no manifests printed as if valid).
    expect(r.stdout).not.toMatch(/^kind:/m);
    // No stack trace, no library log line.
    expect(r.stderr).not.toMatch(/\n\s+at .*:\d+:\d+/);
    expect(r.stderr).not.toMatch(/^E No address added/m);
  });

  it("serve takes --timeout 10m-style durations like run does (here 1ms), and stops with 0", async () => {
    const r = await runBinary(["serve", "agent", "--builtin", "sensor", ...serveFlags, "--timeout", "1ms"]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
  });

  it("deploy takes -m a,b like run and serve", async () => {
    const r = await run(["deploy", "--image", "a:1", "-m", "dist/a.js,dist/b.js"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/- --modules\n\s+- dist\/a\.js\n\s+- --modules\n\s+- dist\/b\.js/);
  });
});
