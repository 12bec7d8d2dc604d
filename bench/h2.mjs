// What the throughput benchmark (bench/run.mjs) and the profiler (bench/profile.mjs) share: the
// requests as FlytePropeller sends them, h2load driving them, a raw grpc-js client checking the
// answers, and starting/stopping the agent server and the bare grpc-js server.
import { Buffer } from "node:buffer";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { setTimeout } from "node:timers";
import { credentials, makeGenericClientConstructor, Metadata } from "@grpc/grpc-js";
import { serveAgentArgs } from "./serve-command.mjs";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = (p) => import(path.join(root, "dist", p));
const { defineTask } = await dist("task/index.js");
const { z } = await import("zod");
const agentPb = await dist("gen/flyteidl/admin/agent.js");

export function ensureH2load() {
  try {
    execFileSync("h2load", ["--version"], { stdio: "ignore" });
  } catch {
    if (process.getuid?.() !== 0) throw new Error("h2load is missing: apt-get install nghttp2-client");
    console.error("installing nghttp2-client (h2load)...");
    execFileSync("sh", ["-c", "apt-get update -qq && apt-get install -y -qq nghttp2-client >/dev/null"], {
      stdio: "inherit",
    });
  }
}

export const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const frame = (bytes) => {
  const out = Buffer.alloc(5 + bytes.length);
  out.writeUInt32BE(bytes.length, 1);
  Buffer.from(bytes).copy(out, 5);
  return out;
};

// Requests, as FlytePropeller would send them.
const task = defineTask({ name: "bench", taskType: "bench", inputs: { n: z.number().int() }, outputs: {} });
const syncTask = defineTask({
  name: "bench_sync",
  taskType: "bench_sync",
  inputs: { n: z.number().int() },
  outputs: { n: z.number().int() },
});
export const requests = {
  GetTask: agentPb.GetTaskRequest.encode({
    taskType: "bench",
    resourceMeta: Buffer.from('{"job_id": "job-1"}'),
    taskCategory: { name: "bench", version: 0 },
    outputPrefix: "s3://bucket/prefix/0",
  }).finish(),
  CreateTask: agentPb.CreateTaskRequest.encode({
    inputs: task.encodeInputs({ n: 1 }),
    template: task.template(),
    outputPrefix: "s3://bucket/prefix/0",
    taskExecutionMetadata: undefined,
  }).finish(),
  ExecuteTaskSync: [
    agentPb.ExecuteTaskSyncRequest.encode({
      header: {
        template: syncTask.template(),
        outputPrefix: "s3://b/p",
        taskExecutionMetadata: undefined,
        maxDatasetSizeBytes: 0n,
      },
    }).finish(),
    agentPb.ExecuteTaskSyncRequest.encode({ inputs: syncTask.encodeInputs({ n: 1 }) }).finish(),
  ],
};
export const paths = {
  GetTask: "/flyteidl.service.AsyncAgentService/GetTask",
  CreateTask: "/flyteidl.service.AsyncAgentService/CreateTask",
  ExecuteTaskSync: "/flyteidl.service.SyncAgentService/ExecuteTaskSync",
};

const same = (b) => b;
const raw = (p, stream) => ({
  path: p,
  requestStream: stream,
  responseStream: stream,
  requestSerialize: same,
  requestDeserialize: same,
  responseSerialize: same,
  responseDeserialize: same,
});
const RawClient = makeGenericClientConstructor(
  {
    GetTask: raw(paths.GetTask, false),
    CreateTask: raw(paths.CreateTask, false),
    ExecuteTaskSync: raw(paths.ExecuteTaskSync, true),
    Check: raw("/grpc.health.v1.Health/Check", false),
  },
  "Raw",
);

/** Calls each method once with grpc-js and returns the answer bytes (this is the grpc-status check). */
export async function answers(address) {
  const client = new RawClient(address, credentials.createInsecure());
  const unary = (m) =>
    new Promise((resolve, reject) =>
      client[m](Buffer.from(requests[m]), new Metadata(), (e, r) =>
        e ? reject(new Error(`${m}: ${e.message}`)) : resolve(r),
      ),
    );
  const out = { GetTask: await unary("GetTask"), CreateTask: await unary("CreateTask") };
  out.ExecuteTaskSync = await new Promise((resolve, reject) => {
    const call = client.ExecuteTaskSync();
    const got = [];
    call.on("data", (b) => got.push(b));
    call.on("error", (e) => reject(new Error(`ExecuteTaskSync: ${e.message}`)));
    call.on("end", () => resolve(Buffer.concat(got)));
    for (const m of requests.ExecuteTaskSync) call.write(Buffer.from(m));
    call.end();
  });
  client.close();
  return out;
}

/** Polls health Check until SERVING; resolves to the milliseconds since `started`. */
export async function waitServing(address, started, child) {
  // grpc-js backs off a second after a refused connection; that would be measured as start-up time.
  const client = new RawClient(address, credentials.createInsecure(), {
    "grpc.initial_reconnect_backoff_ms": 5,
    "grpc.max_reconnect_backoff_ms": 5,
  });
  let exited = false;
  child.once("exit", () => (exited = true));
  for (;;) {
    if (exited) throw new Error("the agent server exited before reporting SERVING");
    const ok = await new Promise((resolve) =>
      client.Check(Buffer.alloc(0), new Metadata(), { deadline: Date.now() + 200 }, (e, r) =>
        resolve(!e && r[1] === 1),
      ),
    );
    if (ok) {
      const ms = performance.now() - started;
      client.close();
      return ms;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * Starts `flyte-agent serve agent -m bench/agents.mjs` with the default flags plus `flags`; its log
 * lines (standard output) are dropped. `nodeArgs` go to node (e.g. `--cpu-prof`).
 */
export async function startAgentServer(flags = [], { nodeArgs = [] } = {}) {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [...nodeArgs, ...serveAgentArgs({ port, module: "bench/agents.mjs", extra: ["--no-banner", ...flags] })],
    { cwd: root, stdio: ["ignore", "ignore", "inherit"] },
  );
  const servingMs = await waitServing(`127.0.0.1:${port}`, started, child);
  return { child, port, servingMs };
}

/**
 * Starts a reference server (bench/bare-server.mjs by default) answering each method with
 * `expected`'s bytes, and checks that it does. `command` runs `script` (node, or python3 for the
 * grpc.aio one); `nodeArgs` go before the script.
 */
export async function startBareServer(
  expected,
  { script = "bench/bare-server.mjs", command = process.execPath, nodeArgs = [] } = {},
) {
  const child = spawn(
    command,
    [
      ...nodeArgs,
      path.join(root, script),
      JSON.stringify(Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, v.toString("base64")]))),
    ],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = Number(
    await new Promise((resolve, reject) => {
      child.stdout.once("data", (d) => resolve(String(d).trim()));
      child.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
    }),
  );
  const got = await answers(`127.0.0.1:${port}`);
  for (const m of Object.keys(expected)) {
    if (!expected[m].equals(got[m])) throw new Error(`${script} does not answer ${m} with the same bytes`);
  }
  return { child, port };
}

export const rssMb = (pid) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;
/** The process and its children (the workers of `--workers`). */
export const family = (pid) => [
  pid,
  ...readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number),
];
/** CPU seconds (user + system) a process has used, from /proc (10 ms resolution). */
export const cpuSeconds = (pid) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
export const stop = (child) =>
  new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", resolve);
    child.kill("SIGTERM");
  });

const dir = mkdtempSync(path.join(tmpdir(), "flyte-agent-bench-"));
/** Runs h2load: `n` calls of `method` over `connections` connections; rates, latencies, its own CPU. */
export function h2load(port, method, connections, n) {
  const body = path.join(dir, `${method}.bin`);
  const req = requests[method];
  writeFileSync(body, Array.isArray(req) ? Buffer.concat(req.map(frame)) : frame(req));
  const log = path.join(dir, `${method}-${port}-${connections}.log`);
  // Through bash, whose `times` reports the CPU h2load itself used: on a shared machine the load
  // generator competes with the server for cores, so its share is reported beside the rates.
  const out = execFileSync(
    "bash",
    [
      "-c",
      'h2load "$@" && times',
      "h2load",
      "-n",
      String(n),
      "-c",
      String(connections),
      "-m",
      "1",
      "-t",
      "1",
      "-d",
      body,
      "-H",
      "content-type: application/grpc",
      "-H",
      "te: trailers",
      "--log-file",
      log,
      `http://127.0.0.1:${port}${paths[method]}`,
    ],
    { encoding: "utf8" },
  );
  const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out)[1]);
  const ok = Number(/status codes: (\d+) 2xx/.exec(out)[1]);
  if (ok !== n) throw new Error(`${method}: only ${ok}/${n} answers were HTTP 200`);
  const latencies = readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((l) => Number(l.split("\t")[2]))
    .sort((a, b) => a - b);
  const pct = (p) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] / 1000;
  // `times` prints the shell's own times, then its children's: "0m1.234s 0m0.456s" (user, system).
  const seconds = (t) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(t);
    return Number(m[1]) * 60 + Number(m[2]);
  };
  const children = out.trim().split("\n").at(-1).trim().split(/\s+/);
  const loadCpuS = seconds(children[0]) + seconds(children[1]);
  const [, wall, unit] = /finished in ([\d.]+)(\w+),/.exec(out);
  const wallS = Number(wall) / ({ s: 1, ms: 1e3, us: 1e6 }[unit] ?? NaN);
  return { rps, p50: pct(50), p99: pct(99), loadCpuS, wallS };
}
