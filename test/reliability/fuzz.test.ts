// Fuzz and bad input: thousands of seeded malformed requests against the real `flyte-agent serve agent`
// over raw HTTP/2, with good calls from a real grpc-js client in between. The server must answer
// each with a gRPC status and a message, never crash, and keep serving the good calls.
//
// FUZZ_SEED (default below), FUZZ_CASES (default 3000), FUZZ_CONCURRENCY (default 24) and FUZZ_ONLY
// (one case index, to reproduce a failure) tune a run. Runs the built CLI: `npm run build` first.
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { status } from "@grpc/grpc-js";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateTaskRequest,
  type CreateTaskResponse,
  ExecuteTaskSyncRequest,
  GetTaskRequest,
  type GetTaskResponse,
  type ListAgentsResponse,
} from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";
import { clients, executeSync, unary } from "../server/helpers.js";
import { type FuzzCase, generateCase, kinds, type Kind } from "./fuzz-cases.js";
import { RawGrpcClient, type WireResult } from "./fuzz-wire.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bin = path.join(root, "bin/flyte-agent.js");
const fixture = "test/reliability/fixtures/fuzz-agents.ts";

const envInt = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return n;
};
const seed = envInt("FUZZ_SEED", 20_261_124);
const caseCount = envInt("FUZZ_CASES", 3000);
const concurrency = Math.max(1, envInt("FUZZ_CONCURRENCY", 24));
const only = process.env.FUZZ_ONLY ? envInt("FUZZ_ONLY", 0) : undefined;
/** A good round (CreateTask, GetTask, ListAgents, ExecuteTaskSync) every this many cases. */
const goodEvery = 50;
/** A case with no status after this long is a hang. */
const caseTimeoutMs = 15_000;

/** How to run one case again. */
const reproduce = (index: number) =>
  `FUZZ_SEED=${seed} FUZZ_ONLY=${index} npx vitest run test/reliability/fuzz.test.ts`;

// A stack frame or a source path in a status message leaks the server's insides.
const leak = /\n\s*at |^\s*at \S+ \(|\s{4}at |node_modules|\/src\/server\/|\.ts:\d+/;
// The INTERNAL answers gRPC itself gives malformed frames; an INTERNAL from a handler ("failed to …")
// means the server's own code threw on bad input, where INVALID_ARGUMENT is right.
const transportInternal =
  /^(Error deserializing request|Failed to decompress message|Invalid grpc-timeout value)/;

/** Starts the real server and follows its output. */
async function startServer() {
  const child = execa(
    "node",
    [
      bin,
      "serve",
      "agent",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--no-prometheus",
      "--no-discover",
      "--no-banner",
      "--grace-period",
      "5",
      "-m",
      fixture,
    ],
    { cwd: root, reject: false, buffer: false },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d: string) => (stderr += d));
  const errorLines: Record<string, unknown>[] = [];
  const suspicious: string[] = [];
  const draining: Record<string, unknown>[] = [];
  let resolvePort: (p: number) => void = () => {};
  const port = new Promise<number>((resolve) => (resolvePort = resolve));
  createInterface({ input: child.stdout }).on("line", (text) => {
    if (/uncaught|unhandled/i.test(text)) suspicious.push(text);
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    if (line.msg === "agent server listening") resolvePort(line.port as number);
    if (line.msg === "draining") draining.push(line);
    if (line.level === "error" || line.level === "fatal") errorLines.push(line);
  });
  const exited = child.then((r) => r);
  const listening = await Promise.race([
    port,
    exited.then((r) => {
      throw new Error(`serve exited early (${String(r.exitCode)}): ${stderr}`);
    }),
  ]);
  return {
    child,
    exited,
    port: listening,
    stderr: () => stderr,
    errorLines,
    suspicious,
    draining,
    alive: () => child.exitCode === null && child.signalCode === null,
  };
}

type Server = Awaited<ReturnType<typeof startServer>>;

/** Everything wrong with one case's answer (empty when it is fine). */
function judge(c: FuzzCase, r: WireResult): string[] {
  const problems: string[] = [];
  if (r.failure !== undefined) return [r.failure];
  const raw = r.grpcStatus ?? Number.NaN;
  if (!Number.isInteger(raw) || raw < 0 || raw > 16) problems.push(`grpc-status ${raw} is not a gRPC code`);
  const code = raw as status;
  if (!c.allowed.includes(code)) {
    problems.push(`status ${status[code] ?? code} not in [${c.allowed.map((a) => status[a]).join(", ")}]`);
  }
  if (code !== status.OK) {
    if (r.grpcMessage.trim() === "") problems.push(`status ${status[code]} without a grpc-message`);
    if (leak.test(r.grpcMessage)) problems.push("grpc-message leaks a stack trace or a source path");
    if (code === status.INTERNAL && !transportInternal.test(r.grpcMessage)) {
      problems.push("INTERNAL from the server's own code on bad input");
    }
  } else if (r.messages < 0) {
    problems.push("the response body is not whole gRPC frames");
  }
  if (r.httpStatus !== 200) problems.push(`HTTP status ${r.httpStatus}`);
  return problems;
}

function describeCase(c: FuzzCase, r: WireResult, problems: readonly string[]): string {
  const head = c.body.subarray(0, 48).toString("hex");
  return [
    `case ${c.index} (seed ${seed}) ${c.kind} ${c.path}: ${problems.join("; ")}`,
    `  ${c.note}`,
    `  answered ${r.grpcStatus === undefined ? "nothing" : (status[r.grpcStatus] ?? r.grpcStatus)} "${r.grpcMessage.slice(0, 200)}" in ${r.ms.toFixed(0)} ms`,
    `  body ${c.body.length} bytes: ${head}${c.body.length > 48 ? "…" : ""}${Object.keys(c.headers).length ? ` headers ${JSON.stringify(c.headers)}` : ""}`,
    `  reproduce: ${reproduce(c.index)}`,
  ].join("\n");
}

/** One round of calls a well-behaved client makes; throws if any does not succeed as expected. */
async function goodRound(c: ReturnType<typeof clients>, n: number): Promise<number> {
  const created: CreateTaskResponse = await unary(
    c.async.createTask.bind(c.async),
    CreateTaskRequest.fromPartial({
      template: { type: "fuzz_job" },
      inputs: { literals: {} },
      outputPrefix: `s3://good/${n}`,
    }),
    10_000,
  );
  const meta = JSON.parse(created.resourceMeta.toString()) as { job_id: string };
  expect(meta.job_id).toBe("job-0");
  const got: GetTaskResponse = await unary(
    c.async.getTask.bind(c.async),
    GetTaskRequest.fromPartial({
      taskCategory: { name: "fuzz_job", version: 0 },
      resourceMeta: created.resourceMeta,
    }),
    10_000,
  );
  expect(got.resource?.message).toBe("polling job-0");
  const listed: ListAgentsResponse = await unary(c.meta.listAgents.bind(c.meta), {}, 10_000);
  expect(listed.agents.map((a) => a.name).sort()).toEqual(["FuzzEchoAgent", "FuzzJobAgent"]);
  const answers = await executeSync(c.sync, [
    ExecuteTaskSyncRequest.fromPartial({
      header: { template: { type: "fuzz_echo" }, outputPrefix: "s3://good" },
    }),
    ExecuteTaskSyncRequest.fromPartial({
      inputs: { literals: { text: { scalar: { primitive: { stringValue: `hi ${n}` } } } } },
    }),
  ]);
  expect(answers).toHaveLength(1);
  expect(answers[0]?.header?.resource?.outputs?.literals.text?.scalar?.primitive?.stringValue).toBe(
    `hi ${n}`,
  );
  return 4;
}

interface Tally {
  readonly byKind: Map<Kind, Map<string, number>>;
  failures: string[];
  failureCount: number;
  goodCalls: number;
  goodFailures: string[];
  slowestMs: number;
  slowest: string;
  sessionLost: number;
  answeredEarly: number;
}

function formatTally(t: Tally, ms: number, server: Server, client: RawGrpcClient): string {
  const lines = [
    `fuzz: seed ${seed}, ${only === undefined ? caseCount : 1} cases, concurrency ${concurrency}, ${(ms / 1000).toFixed(1)} s`,
    `  good calls served meanwhile: ${t.goodCalls}, failed: ${t.goodFailures.length}`,
    `  server alive: ${server.alive()}, failing cases: ${t.failureCount}, slowest case: ${t.slowestMs.toFixed(0)} ms (${t.slowest})`,
    `  sessions reopened: ${client.reconnects}, GOAWAYs: ${JSON.stringify(Object.fromEntries(client.goaways))}, answers on a lost session: ${t.sessionLost}, answered before the request was sent in full: ${t.answeredEarly}`,
    "  status codes per kind:",
  ];
  for (const k of kinds) {
    const dist = t.byKind.get(k);
    if (!dist) continue;
    const total = [...dist.values()].reduce((a, b) => a + b, 0);
    const parts = [...dist.entries()].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s} ${n}`);
    lines.push(`    ${k.padEnd(17)} ${String(total).padStart(6)}  ${parts.join(", ")}`);
  }
  return lines.join("\n");
}

describe("the agent server under fuzzed and malformed requests", () => {
  let server: Server;

  beforeAll(async () => {
    server = await startServer();
  });

  afterAll(async () => {
    if (server?.alive()) {
      server.child.kill("SIGKILL");
      await server.exited;
    }
  });

  it(
    "answers every malformed request with a gRPC status and a message, never crashes, and serves good calls meanwhile",
    async () => {
      const raw = new RawGrpcClient(`http://127.0.0.1:${server.port}`, 2);
      const good = clients(`127.0.0.1:${server.port}`);
      const tally: Tally = {
        byKind: new Map(),
        failures: [],
        failureCount: 0,
        goodCalls: 0,
        goodFailures: [],
        slowestMs: 0,
        slowest: "",
        sessionLost: 0,
        answeredEarly: 0,
      };
      const goodRounds: Promise<void>[] = [];
      const indices = only === undefined ? [...Array(caseCount).keys()] : [only];
      let next = 0;
      const started = performance.now();

      const runOne = async (index: number): Promise<void> => {
        if (index % goodEvery === 0) {
          goodRounds.push(
            goodRound(good, index).then(
              (n) => void (tally.goodCalls += n),
              (err: unknown) => void tally.goodFailures.push(`good round at case ${index}: ${String(err)}`),
            ),
          );
        }
        const c = generateCase(seed, index);
        let r = await raw.send(c.path, c.body, c.headers, caseTimeoutMs);
        // A session the server closed for another stream's sake takes this one with it: send again once
        // on a fresh session. A case whose own bytes close sessions fails the second time too.
        if (r.failure !== undefined && r.sessionLost) {
          tally.sessionLost++;
          r = await raw.send(c.path, c.body, c.headers, caseTimeoutMs);
        }
        if (r.answeredEarly) tally.answeredEarly++;
        if (r.ms > tally.slowestMs) {
          tally.slowestMs = r.ms;
          tally.slowest = `#${c.index} ${c.kind}: ${c.note.slice(0, 60)}`;
        }
        const label =
          r.grpcStatus === undefined ? "NO_STATUS" : (status[r.grpcStatus] ?? String(r.grpcStatus));
        const dist = tally.byKind.get(c.kind) ?? new Map<string, number>();
        dist.set(label, (dist.get(label) ?? 0) + 1);
        tally.byKind.set(c.kind, dist);
        const problems = judge(c, r);
        if (problems.length > 0) {
          tally.failureCount++;
          if (tally.failures.length < 25) tally.failures.push(describeCase(c, r, problems));
        }
      };

      const worker = async (): Promise<void> => {
        while (next < indices.length && server.alive()) {
          const index = indices[next++]!;
          await runOne(index);
        }
      };
      try {
        await Promise.all(Array.from({ length: concurrency }, worker));
        await Promise.all(goodRounds);
        // One more round after the storm: the server still serves.
        tally.goodCalls += await goodRound(good, -1);
      } finally {
        raw.close();
        good.close();
      }
      const elapsed = performance.now() - started;
      const report = formatTally(tally, elapsed, server, raw);
      console.log(report);

      const header = `seed ${seed}; reproduce one case with ${reproduce(0).replace("FUZZ_ONLY=0", "FUZZ_ONLY=<case>")}`;
      expect(server.alive(), `the server exited (${header}); stderr:\n${server.stderr()}`).toBe(true);
      expect(tally.goodFailures, `good calls failed during the fuzz (${header})`).toEqual([]);
      expect(
        tally.failures,
        `${tally.failureCount} cases misbehaved (${header}):\n${tally.failures.join("\n")}`,
      ).toEqual([]);
      expect(server.stderr(), "the server wrote to stderr").not.toMatch(/uncaught|unhandled|\n\s+at /i);
      expect(server.suspicious, "the server logged an uncaught exception or unhandled rejection").toEqual([]);
      // Only a server fault logs at error level: the fixture agents never fail, and bad requests are warnings.
      expect(
        server.errorLines.map((l) => `${String(l.msg)}: ${JSON.stringify(l.err ?? l).slice(0, 300)}`),
        "the server logged errors",
      ).toEqual([]);
    },
    Math.max(120_000, caseCount * 40),
  );

  it("has no agent call left in flight after the fuzz, and drains and exits 0 on SIGTERM", async () => {
    expect(server.alive()).toBe(true);
    server.child.kill("SIGTERM");
    const result = await server.exited;
    expect(result.exitCode).toBe(0);
    // Every fuzz call was answered before this test started: one still counted would be a leaked call.
    expect(server.draining.map((l) => l.in_flight)).toEqual([0]);
    expect(server.stderr()).not.toMatch(/uncaught|unhandled|\n\s+at /i);
  });
});
