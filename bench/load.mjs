// The load benchmark, part of `npm run bench` (alone: `node bench/load.mjs [--quick]`): one agent
// server in its own process, and this process running 10,000 executeTask() calls at once over one
// ExecutorSession, polling as FlytePropeller does, then 1,000 concurrent sync calls.
// test/reliability/load.test.ts runs the same driver at a reduced size in CI.
// Flags: --quick (2,000 async + 200 sync), --async=N, --rounds=N (async rounds, default 2), --sync=N, --duration-ms=N, --resync-ms=N,
// --max-calls=N (CreateTask in flight), --max-gets=N (GetTask in flight), --server-flags="...".
// Needs `npm run build` (it uses dist/ and bin/).
// See bench/README.md, "### Load".
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import os, { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { clearInterval, setInterval } from "node:timers";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { serveAgentArgs } from "./serve-command.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { executeTask, ExecutorSession, endpointConfig } = await import(
  path.join(root, "dist/executor/index.js")
);
const { defineTask } = await import(path.join(root, "packages/runtime/dist/task/index.js"));

export const loadFixture = "bench/load-agents.mjs";

export const asyncTask = defineTask({
  name: "load.async",
  taskType: "load_async",
  inputs: { n: z.int(), duration_ms: z.int() },
  outputs: { job_id: z.string(), doubled: z.int() },
});

export const syncTask = defineTask({
  name: "load.sync",
  taskType: "load_sync",
  inputs: { n: z.int(), delay_ms: z.int() },
  outputs: { n: z.int() },
});

/**
 * Storage that keeps nothing: the load is about the agent path, and a blob store on this machine's
 * disk would measure the disk. Outputs come back in Resource.outputs, so nothing is ever read.
 */
const discardStorage = {
  join: (prefix, name) => path.join(prefix, name),
  ensurePrefix: async () => {},
  write: async () => {},
  read: async () => undefined,
  size: async () => undefined,
};

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });

const accepts = (port) =>
  new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

/** RSS of a process in MB, from /proc (Linux). */
export const rssMb = (pid) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;

/** Starts `flyte-agent serve agent` on the load fixture, as users start it, and waits until it listens. */
export async function startLoadServer({ serverFlags = [], timeoutMs = 20_000 } = {}) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    serveAgentArgs({
      port,
      module: loadFixture,
      extra: ["--no-banner", "--log-level", "warn", ...serverFlags],
    }),
    { cwd: root, stdio: ["ignore", "inherit", "inherit"] },
  );
  let exited = false;
  child.once("exit", () => (exited = true));
  const stop = () =>
    new Promise((resolve) => {
      if (exited) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  const deadline = Date.now() + timeoutMs;
  while (!(await accepts(port))) {
    if (exited) throw new Error("the agent server exited before listening");
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the agent server did not listen on port ${port} within ${timeoutMs} ms`);
    }
    await sleep(20);
  }
  return { child, pid: child.pid, port, address: `127.0.0.1:${port}`, stop };
}

const percentile = (sorted, p) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const countBy = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);

/** CPU seconds (user + system) a process has used, from /proc (Linux; 100 clock ticks a second). */
const cpuSeconds = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const ownCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Samples a process's RSS every `everyMs` until stopped; keeps the peak and the last value. */
function rssSampler(pid, everyMs) {
  let peak = rssMb(pid);
  let last = peak;
  const timer = setInterval(() => {
    last = rssMb(pid);
    peak = Math.max(peak, last);
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      last = rssMb(pid);
      return { peak: Math.max(peak, last), last };
    },
  };
}

/**
 * One round of async tasks started at once over one session, polled as FlytePropeller does; then
 * the server's RSS is sampled for `settleMs` while it is idle.
 */
async function asyncRound(o, round) {
  const rpc = { GetTask: [], CreateTask: [], other: new Map() };
  const errors = new Map();
  const onRpc = (r) => {
    if (r.code !== "OK") countBy(errors, `${r.op} ${r.code}`);
    if (r.op === "GetTask") rpc.GetTask.push(r.durationMs);
    else if (r.op === "CreateTask") rpc.CreateTask.push(r.durationMs);
    else countBy(rpc.other, r.op);
  };
  const { address, serverPid } = o;
  const config = {
    ...endpointConfig(address, { defaultRpcTimeoutMs: o.rpcTimeoutMs }),
    resyncIntervalMs: o.resyncIntervalMs,
    readRateLimiter: { qps: o.qps, burst: o.burst },
  };
  const session = await ExecutorSession.create({
    config,
    onRpc,
    maxConcurrentCalls: o.maxConcurrentCalls,
    maxConcurrentGets: o.maxConcurrentGets,
  });
  const base = path.join(tmpdir(), "flyte-agent-load");
  const serverRss = rssSampler(serverPid, o.sampleEveryMs);
  const cpu0 = { server: cpuSeconds(serverPid), executor: ownCpuSeconds() };
  let executorPeak = process.memoryUsage.rss() / 2 ** 20;
  const executorTimer = setInterval(() => {
    executorPeak = Math.max(executorPeak, process.memoryUsage.rss() / 2 ** 20);
  }, o.sampleEveryMs);
  const failed = new Map();
  const failures = [];
  const note = (kind, detail) => {
    countBy(failed, kind);
    if (failures.length < 5) failures.push(detail);
  };
  let asyncWall;
  try {
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: o.asyncTasks }, (_, n) =>
        executeTask({
          task: asyncTask,
          inputs: { n, duration_ms: o.taskDurationMs },
          session,
          propellerTiming: true,
          storage: discardStorage,
          outputDir: path.join(base, `r${round}-a${n}`),
          executionName: `load-r${round}-a${n}`,
        }).then(
          (r) => {
            if (!r.succeeded) note(r.code ?? r.phase, `task ${n}: ${r.phase} ${r.code}: ${r.message}`);
            else if (r.outputs.job_id !== `job-${n}` || r.outputs.doubled !== n * 2)
              note("wrong outputs", `task ${n}: outputs ${JSON.stringify(r.outputs)}`);
            return r;
          },
          (err) => note("rejected", `task ${n}: ${err.message}`),
        ),
      ),
    );
    asyncWall = (performance.now() - t0) / 1000;
    results.length = 0;
  } finally {
    session.close();
    clearInterval(executorTimer);
  }
  const during = serverRss.stop();
  const cpu1 = { server: cpuSeconds(serverPid), executor: ownCpuSeconds() };
  // The server cannot be made to collect garbage from outside: sample for a while and keep the last.
  const settle = rssSampler(serverPid, o.sampleEveryMs);
  await sleep(o.settleMs);
  const settled = settle.stop();
  const gets = [...rpc.GetTask].sort((a, b) => a - b);
  const creates = [...rpc.CreateTask].sort((a, b) => a - b);
  return {
    round,
    tasks: o.asyncTasks,
    succeeded: o.asyncTasks - [...failed.values()].reduce((a, b) => a + b, 0),
    wallSeconds: asyncWall,
    tasksPerSecond: o.asyncTasks / asyncWall,
    getTaskCalls: gets.length,
    getTasksPerSecond: gets.length / asyncWall,
    getTaskP50Ms: percentile(gets, 50),
    getTaskP99Ms: percentile(gets, 99),
    getTaskMaxMs: gets.at(-1) ?? NaN,
    createTaskCalls: creates.length,
    createTaskP50Ms: percentile(creates, 50),
    createTaskP99Ms: percentile(creates, 99),
    otherCalls: Object.fromEntries(rpc.other),
    rpcErrors: Object.fromEntries(errors),
    failedTasks: Object.fromEntries(failed),
    failureSamples: failures,
    serverRssMb: { peak: during.peak, atEnd: during.last, settled: settled.last },
    executorRssPeakMb: executorPeak,
    cpuSeconds: { server: cpu1.server - cpu0.server, executor: cpu1.executor - cpu0.executor },
  };
}

/**
 * Runs `asyncTasks` async tasks at once (`asyncRounds` times, one round after the other), then `syncCalls` sync calls at once, against `address`, and
 * measures them. Each task is checked: it must SUCCEED with the outputs its inputs imply.
 */
export async function runLoad(options) {
  const o = {
    asyncTasks: 10_000,
    asyncRounds: 1,
    syncCalls: 1_000,
    taskDurationMs: 3_000,
    resyncIntervalMs: 1_000,
    qps: 100_000,
    burst: 10_000,
    maxConcurrentCalls: 50,
    maxConcurrentGets: 100,
    syncDelayMs: 5,
    rpcTimeoutMs: 30_000,
    settleMs: 5_000,
    idleMs: 2_000,
    sampleEveryMs: 100,
    ...options,
  };
  const { address, serverPid } = o;
  await sleep(o.idleMs);
  const serverIdle = rssMb(serverPid);
  const executorIdle = process.memoryUsage.rss() / 2 ** 20;

  const rounds = [];
  for (let round = 1; round <= o.asyncRounds; round++) rounds.push(await asyncRound(o, round));
  const cpu1 = { server: cpuSeconds(serverPid), executor: ownCpuSeconds() };

  // --- sync: all calls at once ---------------------------------------------------------------
  const syncDurations = [];
  const syncErrors = new Map();
  const syncFailed = new Map();
  const syncFailures = [];
  const syncSession = await ExecutorSession.create({
    endpoint: address,
    defaultRpcTimeoutMs: o.rpcTimeoutMs,
    onRpc: (r) => {
      if (r.code !== "OK") countBy(syncErrors, `${r.op} ${r.code}`);
      if (r.op === "ExecuteTaskSync") syncDurations.push(r.durationMs);
    },
  });
  let syncWall;
  try {
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: o.syncCalls }, (_, n) =>
        executeTask({
          task: syncTask,
          inputs: { n, delay_ms: o.syncDelayMs },
          session: syncSession,
          storage: discardStorage,
          outputDir: path.join(tmpdir(), "flyte-agent-load", `s${n}`),
          executionName: `load-s${n}`,
        }).then(
          (r) => {
            const bad = !r.succeeded
              ? (r.code ?? r.phase)
              : r.outputs.n !== n + 1
                ? "wrong outputs"
                : undefined;
            if (bad) {
              countBy(syncFailed, bad);
              if (syncFailures.length < 5) syncFailures.push(`call ${n}: ${r.phase} ${r.message}`);
            }
          },
          (err) => {
            countBy(syncFailed, "rejected");
            if (syncFailures.length < 5) syncFailures.push(`call ${n}: ${err.message}`);
          },
        ),
      ),
    );
    syncWall = (performance.now() - t0) / 1000;
  } finally {
    syncSession.close();
  }
  const cpu2 = { server: cpuSeconds(serverPid), executor: ownCpuSeconds() };
  const syncSorted = syncDurations.sort((a, b) => a - b);
  const syncReport = {
    calls: o.syncCalls,
    succeeded: o.syncCalls - [...syncFailed.values()].reduce((a, b) => a + b, 0),
    wallSeconds: syncWall,
    callsPerSecond: o.syncCalls / syncWall,
    p50Ms: percentile(syncSorted, 50),
    p99Ms: percentile(syncSorted, 99),
    maxMs: syncSorted.at(-1) ?? NaN,
    rpcErrors: Object.fromEntries(syncErrors),
    failedCalls: Object.fromEntries(syncFailed),
    failureSamples: syncFailures,
  };

  return {
    options: o,
    rounds,
    sync: syncReport,
    serverRssMb: { idle: serverIdle, afterSync: rssMb(serverPid) },
    executorRssMb: { idle: executorIdle, peak: Math.max(...rounds.map((r) => r.executorRssPeakMb)) },
    // The sync figures include the settling after the last round, when both sides are idle.
    syncCpuSeconds: { server: cpu2.server - cpu1.server, executor: cpu2.executor - cpu1.executor },
  };
}

const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");
const codes = (m) =>
  Object.keys(m).length === 0
    ? "0"
    : Object.entries(m)
        .map(([k, v]) => `${v} ${k}`)
        .join(", ");

/** The report as the markdown bench/README.md records. */
export function formatLoadReport(r) {
  const { options: o, rounds, sync: s, serverRssMb: m, executorRssMb: x, syncCpuSeconds: sc } = r;
  const failed = rounds.filter((a) => Object.keys(a.failedTasks).length > 0);
  return [
    `async: ${o.asyncTasks} tasks of ${o.taskDurationMs} ms each, started at once, ${rounds.length} round(s) one after the other on the same server; resync ${o.resyncIntervalMs} ms, read rate limit ${o.qps} qps / burst ${o.burst}, at most ${o.maxConcurrentCalls} CreateTask and ${o.maxConcurrentGets} GetTask in flight`,
    "",
    "| round | tasks | succeeded | wall s | tasks/s | GetTask calls | GetTask/s | GetTask p50 ms | GetTask p99 ms | GetTask max ms | CreateTask p50 ms | CreateTask p99 ms | RPC errors | CPU s server / executor |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rounds.map(
      (a) =>
        `| ${a.round} | ${a.tasks} | ${a.succeeded} | ${f(a.wallSeconds, 2)} | ${f(a.tasksPerSecond)} | ${a.getTaskCalls} | ${f(a.getTasksPerSecond)} | ${f(a.getTaskP50Ms, 2)} | ${f(a.getTaskP99Ms, 2)} | ${f(a.getTaskMaxMs, 1)} | ${f(a.createTaskP50Ms, 2)} | ${f(a.createTaskP99Ms, 2)} | ${codes(a.rpcErrors)} | ${f(a.cpuSeconds.server, 1)} / ${f(a.cpuSeconds.executor, 1)} |`,
    ),
    "",
    `server RSS (MB): idle ${f(m.idle, 1)} before the first round`,
    "",
    "| round | peak | at the end | settled (" + f(o.settleMs / 1000) + " s later) |",
    "|---|---|---|---|",
    ...rounds.map(
      (a) =>
        `| ${a.round} | ${f(a.serverRssMb.peak, 1)} | ${f(a.serverRssMb.atEnd, 1)} | ${f(a.serverRssMb.settled, 1)} |`,
    ),
    "",
    `sync: ${s.calls} ExecuteTaskSync calls at once, the agent answering after ${o.syncDelayMs} ms`,
    "",
    "| calls | succeeded | wall s | calls/s | p50 ms | p99 ms | max ms | RPC errors |",
    "|---|---|---|---|---|---|---|---|",
    `| ${s.calls} | ${s.succeeded} | ${f(s.wallSeconds, 2)} | ${f(s.callsPerSecond)} | ${f(s.p50Ms, 2)} | ${f(s.p99Ms, 2)} | ${f(s.maxMs, 1)} | ${codes(s.rpcErrors)} |`,
    "",
    `server RSS after the sync calls: ${f(m.afterSync, 1)} MB; CPU s for the sync calls (and the settling before them): server ${f(sc.server, 1)}, executor ${f(sc.executor, 1)}; executor RSS (MB): idle ${f(x.idle, 1)}, peak ${f(x.peak, 1)}`,
    ...(failed.length || Object.keys(s.failedCalls).length
      ? [
          "",
          `FAILED: async ${failed.map((a) => `round ${a.round}: ${codes(a.failedTasks)}`).join("; ") || "0"}; sync ${codes(s.failedCalls)}`,
          ...failed.flatMap((a) => a.failureSamples),
          ...s.failureSamples,
        ]
      : []),
  ].join("\n");
}

const flag = (argv, name) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const int = (argv, name, fallback) => {
  const v = flag(argv, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${v}"`);
  return n;
};

/** Runs the load benchmark and prints its figures as markdown; throws when any task or call failed. */
export async function runLoadBench(argv = process.argv.slice(2)) {
  const quick = argv.includes("--quick");
  const options = {
    asyncTasks: int(argv, "async", quick ? 2_000 : 10_000),
    asyncRounds: int(argv, "rounds", 2),
    syncCalls: int(argv, "sync", quick ? 200 : 1_000),
    taskDurationMs: int(argv, "duration-ms", 3_000),
    resyncIntervalMs: int(argv, "resync-ms", 1_000),
    maxConcurrentCalls: int(argv, "max-calls", 50),
    maxConcurrentGets: int(argv, "max-gets", 100),
  };
  const serverFlags = (flag(argv, "server-flags") ?? "").split(" ").filter(Boolean);
  const server = await startLoadServer({ serverFlags });
  let report;
  try {
    console.error(
      `load: ${options.asyncTasks} async tasks, then ${options.syncCalls} sync calls, against ${server.address}...`,
    );
    report = await runLoad({ address: server.address, serverPid: server.pid, ...options });
  } finally {
    await server.stop();
  }
  const tasks = options.asyncTasks;
  console.log(
    `\n### Load\n\nnode ${process.version}, ${os.cpus().length} cores, server flags: ${serverFlags.join(" ") || "(defaults)"}\n`,
  );
  console.log(formatLoadReport(report));
  // What the same number of tasks means under FlytePropeller's defaults (resync 30 s, 10 qps).
  const every = Math.max(30, tasks / 10);
  console.log(
    `\nwith propeller's defaults (resyncInterval 30 s, readRateLimiter 10 qps / burst 100), ${tasks} running tasks ask for ${(tasks / 30).toFixed(0)} GetTask/s; the limiter allows 10, so each task is polled about every ${every.toFixed(0)} s${every > 30 ? " instead of 30 s" : ""}`,
  );
  const failed =
    report.rounds.some((a) => a.succeeded !== tasks || Object.keys(a.rpcErrors).length > 0) ||
    report.sync.succeeded !== report.sync.calls ||
    Object.keys(report.sync.rpcErrors).length > 0;
  if (failed) throw new Error("the load benchmark saw errors (see FAILED above): the target is zero");
  return report;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runLoadBench();
