// `npm run bench`: the throughput part (below), the load part (bench/load.mjs) and the faults part (bench/faults.mjs). Throughput: the agent server against a bare @grpc/grpc-js server answering the same bytes,
// driven by h2load (nghttp2-client) over loopback; plus time to SERVING and idle RSS.
// Needs `npm run build` first. See bench/README.md for the figures and how to read them.
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

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = (p) => import(path.join(root, "dist", p));
const { defineTask } = await dist("task/index.js");
const { z } = await import("zod");
const agentPb = await dist("gen/flyteidl/admin/agent.js");

const quick = process.argv.includes("--quick");
// `--only=throughput`, `--only=load` or `--only=faults` runs one part; all run by default.
const only = process.argv.find((a) => a.startsWith("--only="))?.slice(7);
const { runLoadBench } = await import("./load.mjs");
const { runFaultsBench } = await import("./faults.mjs");
if (only === "load") {
  await runLoadBench();
  process.exit(0);
}
if (only === "faults") {
  await runFaultsBench();
  process.exit(0);
}
// Extra flags for the agent server, e.g. `npm run bench -- --server-flags="--no-reflection"`.
const serverFlags = (process.argv.find((a) => a.startsWith("--server-flags=")) ?? "--server-flags=")
  .slice(15)
  .split(" ")
  .filter(Boolean);
const runs = { 1: quick ? 1000 : 5000, 50: quick ? 5000 : 40000 };

function ensureH2load() {
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

const freePort = () =>
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
const requests = {
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
const paths = {
  GetTask: "/flyteidl.service.AsyncAgentService/GetTask",
  CreateTask: "/flyteidl.service.AsyncAgentService/CreateTask",
  ExecuteTaskSync: "/flyteidl.service.SyncAgentService/ExecuteTaskSync",
};

const same = (b) => b;
const RawClient = makeGenericClientConstructor(
  {
    GetTask: {
      path: paths.GetTask,
      requestStream: false,
      responseStream: false,
      requestSerialize: same,
      requestDeserialize: same,
      responseSerialize: same,
      responseDeserialize: same,
    },
    CreateTask: {
      path: paths.CreateTask,
      requestStream: false,
      responseStream: false,
      requestSerialize: same,
      requestDeserialize: same,
      responseSerialize: same,
      responseDeserialize: same,
    },
    ExecuteTaskSync: {
      path: paths.ExecuteTaskSync,
      requestStream: true,
      responseStream: true,
      requestSerialize: same,
      requestDeserialize: same,
      responseSerialize: same,
      responseDeserialize: same,
    },
    Check: {
      path: "/grpc.health.v1.Health/Check",
      requestStream: false,
      responseStream: false,
      requestSerialize: same,
      requestDeserialize: same,
      responseSerialize: same,
      responseDeserialize: same,
    },
  },
  "Raw",
);

/** Calls each method once with grpc-js and returns the answer bytes (this is the grpc-status check). */
async function answers(address) {
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

async function waitServing(address, started, child) {
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

async function startAgentServer(flags = []) {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(
    process.execPath,
    serveAgentArgs({
      port,
      module: "bench/agents.mjs",
      extra: ["--no-banner", "--log-level", "warn", ...serverFlags, ...flags],
    }),
    { cwd: root, stdio: ["ignore", "inherit", "inherit"] },
  );
  const servingMs = await waitServing(`127.0.0.1:${port}`, started, child);
  return { child, port, servingMs };
}

const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;
/** The process and its children (the workers of `--workers`). */
const family = (pid) => [
  pid,
  ...readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number),
];
const stop = (child) =>
  new Promise((resolve) => {
    child.once("exit", resolve);
    child.kill("SIGTERM");
  });

const dir = mkdtempSync(path.join(tmpdir(), "flyte-agent-bench-"));
function h2load(port, method, connections, n) {
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

ensureH2load();
const servingTimes = [];
for (let i = 0; i < 4; i++) {
  const s = await startAgentServer();
  servingTimes.push(s.servingMs);
  await stop(s.child);
}
const agent = await startAgentServer();
servingTimes.push(agent.servingMs);
await new Promise((r) => setTimeout(r, 2000));
const idleRss = rssMb(agent.child.pid);

const expected = await answers(`127.0.0.1:${agent.port}`);
const bare = spawn(
  process.execPath,
  [
    path.join(root, "bench/bare-server.mjs"),
    JSON.stringify(Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, v.toString("base64")]))),
  ],
  { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
);
const barePort = Number(
  await new Promise((resolve) => bare.stdout.once("data", (d) => resolve(String(d).trim()))),
);
const bareAnswers = await answers(`127.0.0.1:${barePort}`);
for (const m of Object.keys(expected)) {
  if (!expected[m].equals(bareAnswers[m]))
    throw new Error(`the bare server does not answer ${m} with the same bytes`);
}

const rows = [];
for (const method of ["GetTask", "CreateTask", "ExecuteTaskSync"]) {
  for (const c of [1, 50]) {
    const n = runs[c];
    h2load(agent.port, method, c, Math.min(2000, n)); // warm-up (JIT, connections)
    h2load(barePort, method, c, Math.min(2000, n));
    const a = h2load(agent.port, method, c, n);
    const b = h2load(barePort, method, c, n);
    rows.push({ method, c, a, b });
    console.error(
      `${method} c=${c}: agent ${a.rps.toFixed(0)} req/s p99 ${a.p99.toFixed(2)}ms; bare ${b.rps.toFixed(0)} req/s p99 ${b.p99.toFixed(2)}ms`,
    );
  }
}
// Every core: GetTask at 50 connections against one worker (the server above) and `--workers 2`,
// interleaved, with the CPU h2load itself used. h2load runs one thread: near 1.0 CPU s per wall
// second it, not the server, is the limit.
const workers = await startAgentServer(["--workers", "2"]);
const workersServingMs = workers.servingMs;
await new Promise((r) => setTimeout(r, 2000));
const workersIdleRss = family(workers.child.pid).map(rssMb);
const workerAnswers = await answers(`127.0.0.1:${workers.port}`);
if (!workerAnswers.GetTask.equals(expected.GetTask))
  throw new Error("--workers 2 answers GetTask differently");
h2load(workers.port, "GetTask", 50, Math.min(2000, runs[50]));
const workerRows = [];
for (let i = 0; i < (quick ? 1 : 2); i++) {
  for (const [label, port] of [
    ["1 process", agent.port],
    ["--workers 2", workers.port],
  ]) {
    const r = h2load(port, "GetTask", 50, runs[50]);
    workerRows.push({ label, r });
    console.error(
      `GetTask c=50 ${label}: ${r.rps.toFixed(0)} req/s p99 ${r.p99.toFixed(2)}ms; h2load ${r.loadCpuS.toFixed(2)} CPU s in ${r.wallS.toFixed(2)} s`,
    );
  }
}
await stop(workers.child);

// Statelessness: after every call above (tens of thousands of creates and gets), plus 10,000 more
// creates, memory is back where an idle server is.
h2load(agent.port, "CreateTask", 50, 10000);
await new Promise((r) => setTimeout(r, 3000));
const afterRss = rssMb(agent.child.pid);
// grpc-status is checked once more after the load: the answers must not have changed.
const after = await answers(`127.0.0.1:${agent.port}`);
for (const m of Object.keys(expected))
  if (!after[m].equals(expected[m])) throw new Error(`${m} answers changed under load`);
await stop(agent.child);
bare.kill("SIGTERM");

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (x, d = 0) => x.toFixed(d);
console.log(
  `node ${process.version}, ${(await import("node:os")).cpus().length} cores, h2load -t 1 -m 1, server flags: ${serverFlags.join(" ") || "(defaults)"}\n`,
);
console.log(
  "| method | conns | agent req/s | bare req/s | ratio | agent p50 ms | agent p99 ms | bare p50 ms | bare p99 ms | p99 ratio |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const { method, c, a, b } of rows) {
  console.log(
    `| ${method} | ${c} | ${f(a.rps)} | ${f(b.rps)} | ${f(a.rps / b.rps, 2)} | ${f(a.p50, 2)} | ${f(a.p99, 2)} | ${f(b.p50, 2)} | ${f(b.p99, 2)} | ${f(a.p99 / b.p99, 2)} |`,
  );
}
console.log(
  `\ntime from process start to health SERVING: median ${f(median(servingTimes))} ms (runs: ${servingTimes.map((t) => f(t)).join(", ")})`,
);
console.log(
  `idle RSS: ${f(idleRss, 1)} MB; RSS after the load and 10,000 more CreateTask: ${f(afterRss, 1)} MB`,
);
console.log(
  "\n| GetTask, 50 conns | req/s | p50 ms | p99 ms | h2load CPU s | h2load wall s | req/s vs 1 process |",
);
console.log("|---|---|---|---|---|---|---|");
const single = median(workerRows.filter((w) => w.label === "1 process").map((w) => w.r.rps));
for (const { label, r } of workerRows) {
  console.log(
    `| ${label} | ${f(r.rps)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${f(r.loadCpuS, 2)} | ${f(r.wallS, 2)} | ${f(r.rps / single, 2)} |`,
  );
}
console.log(
  `--workers 2: time to SERVING ${f(workersServingMs)} ms; idle RSS ${workersIdleRss.map((m) => f(m, 1)).join(" + ")} MB (primary + workers)`,
);
if (only !== "throughput") {
  await runLoadBench();
  await runFaultsBench();
}
