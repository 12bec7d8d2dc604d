// `npm run bench`: the throughput part (below), the load part (bench/load.mjs) and the faults part (bench/faults.mjs). Throughput: the agent server against a bare @grpc/grpc-js server answering the same bytes,
// driven by h2load (nghttp2-client) over loopback; plus time to SERVING and idle RSS.
// Needs `npm run build` first. See bench/README.md for the figures and how to read them.
import { execFileSync, spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { setTimeout } from "node:timers";
import {
  answers,
  freePort,
  root,
  ensureH2load,
  family,
  h2load,
  rssMb,
  startAgentServer as startServer,
  startBareServer,
  stop,
  waitServing,
} from "./h2.mjs";

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

const startAgentServer = (flags = []) => startServer([...serverFlags, ...flags]);

ensureH2load();
const servingTimes = [];
for (let i = 0; i < 4; i++) {
  const s = await startAgentServer();
  servingTimes.push(s.servingMs);
  await stop(s.child);
}
const metricsPort = await freePort();
const agent = await startAgentServer(["--prometheus-port", String(metricsPort)]);
servingTimes.push(agent.servingMs);
await new Promise((r) => setTimeout(r, 2000));
const idleRss = rssMb(agent.child.pid);
// prom-client and the runtime series are loaded by the first scrape: what a scraped server holds.
await (await globalThis.fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
await new Promise((r) => setTimeout(r, 1000));
const scrapedRss = rssMb(agent.child.pid);

const expected = await answers(`127.0.0.1:${agent.port}`);
const bare = await startBareServer(expected);
const barePort = bare.port;
// The floor (bench/codec-server.mjs): grpc-js with the generated codecs and the libraries every agent
// server loads, answering the same bytes; started like the agent server, for its time to SERVING.
const floorServingTimes = [];
let floor;
for (let i = 0; i < 5; i++) {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      `${root}/bench/codec-server.mjs`,
      JSON.stringify(Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, v.toString("base64")]))),
      String(port),
    ],
    { cwd: root, stdio: ["ignore", "ignore", "inherit"] },
  );
  floorServingTimes.push(await waitServing(`127.0.0.1:${port}`, started, child));
  if (i < 4) await stop(child);
  else floor = { child, port };
}
await new Promise((r) => setTimeout(r, 2000));
const floorIdleRss = rssMb(floor.child.pid);
const floorAnswers = await answers(`127.0.0.1:${floor.port}`);
for (const m of Object.keys(expected))
  if (!floorAnswers[m].equals(expected[m]))
    throw new Error(`the codec floor does not answer ${m} with the same bytes`);
// Reference points, when present on the machine: a Python grpc.aio server answering the same bytes.
let python;
try {
  execFileSync("/usr/bin/python3", ["-c", "import grpc.aio"], { stdio: "ignore" });
  python = await startBareServer(expected, {
    script: "bench/grpc-aio-server.py",
    command: "/usr/bin/python3",
  });
} catch {
  python = undefined;
}
let goToolchain = false;
try {
  execFileSync("go", ["version"], { stdio: "ignore" });
  goToolchain = true;
} catch {
  goToolchain = false;
}

const rows = [];
for (const method of ["GetTask", "CreateTask", "ExecuteTaskSync"]) {
  for (const c of [1, 50]) {
    const n = runs[c];
    h2load(agent.port, method, c, Math.min(2000, n)); // warm-up (JIT, connections)
    h2load(barePort, method, c, Math.min(2000, n));
    h2load(floor.port, method, c, Math.min(2000, n));
    if (python) h2load(python.port, method, c, Math.min(2000, n));
    const a = h2load(agent.port, method, c, n);
    const b = h2load(barePort, method, c, n);
    const fl = h2load(floor.port, method, c, n);
    const p = python ? h2load(python.port, method, c, n) : undefined;
    rows.push({ method, c, a, b, fl, p });
    console.error(
      `${method} c=${c}: agent ${a.rps.toFixed(0)} req/s p99 ${a.p99.toFixed(2)}ms; bare ${b.rps.toFixed(0)} req/s p99 ${b.p99.toFixed(2)}ms; floor ${fl.rps.toFixed(0)} req/s p99 ${fl.p99.toFixed(2)}ms` +
        (p ? `; grpc.aio ${p.rps.toFixed(0)} req/s p99 ${p.p99.toFixed(2)}ms` : ""),
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

// Statelessness: after every call above, plus 100,000 more (half GetTask, half CreateTask), memory
// is back near where an idle server is.
h2load(agent.port, "GetTask", 50, 50000);
h2load(agent.port, "CreateTask", 50, 50000);
await new Promise((r) => setTimeout(r, 3000));
const afterRss = rssMb(agent.child.pid);
// grpc-status is checked once more after the load: the answers must not have changed.
const after = await answers(`127.0.0.1:${agent.port}`);
for (const m of Object.keys(expected))
  if (!after[m].equals(expected[m])) throw new Error(`${m} answers changed under load`);
await stop(agent.child);
await stop(bare.child);
await stop(floor.child);
if (python) await stop(python.child);

// `flyte-agent run` of a task whose agent does nothing (bench/noop-task.mjs), from spawn to exit:
// the first run of this benchmark ("cold": the files may still be in the page cache from the
// servers above, but nothing of this command has run yet), then the median of 5 more ("warm").
const runTimes = [];
for (let i = 0; i < 6; i++) {
  const t0 = performance.now();
  execFileSync(process.execPath, [`${root}/bin/flyte-agent.js`, "run", "bench/noop-task.mjs"], {
    cwd: root,
    stdio: "ignore",
  });
  runTimes.push(performance.now() - t0);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (x, d = 0) => x.toFixed(d);
console.log(
  `node ${process.version}, ${(await import("node:os")).cpus().length} cores, h2load -t 1 -m 1, server flags: ${serverFlags.join(" ") || "(defaults)"}\n`,
);
console.log(
  "| method | conns | agent req/s | bare req/s | ratio | agent p50 ms | agent p99 ms | bare p50 ms | bare p99 ms | p99 ratio | floor req/s | floor / bare | floor p99 / bare | grpc.aio req/s | agent / grpc.aio |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const { method, c, a, b, fl, p } of rows) {
  console.log(
    `| ${method} | ${c} | ${f(a.rps)} | ${f(b.rps)} | ${f(a.rps / b.rps, 2)} | ${f(a.p50, 2)} | ${f(a.p99, 2)} | ${f(b.p50, 2)} | ${f(b.p99, 2)} | ${f(a.p99 / b.p99, 2)} | ${f(fl.rps)} | ${f(fl.rps / b.rps, 2)} | ${f(fl.p99 / b.p99, 2)} | ${p ? f(p.rps) : "-"} | ${p ? f(a.rps / p.rps, 2) : "-"} |`,
  );
}
console.log(
  "floor: bench/codec-server.mjs, grpc-js decoding each request and encoding the same answer with the generated codecs, zod and pino loaded, nothing else",
);
console.log(
  python
    ? "grpc.aio: Debian's python3-grpcio serving the same bytes (bench/grpc-aio-server.py)"
    : "grpc.aio: skipped (python3 cannot import grpc.aio: apt-get install python3-grpcio)",
);
console.log(
  goToolchain
    ? "grpc-go: skipped (a Go toolchain is present, but no grpc-go reference server is built by this benchmark)"
    : "grpc-go: skipped (no Go toolchain on this machine)",
);
console.log(
  `\ntime from process start to health SERVING: median ${f(median(servingTimes))} ms (runs: ${servingTimes.map((t) => f(t)).join(", ")})`,
);
console.log(
  `the floor's time to SERVING: median ${f(median(floorServingTimes))} ms (runs: ${floorServingTimes.map((t) => f(t)).join(", ")}); its idle RSS: ${f(floorIdleRss, 1)} MB`,
);
console.log(
  `idle RSS: ${f(idleRss, 1)} MB; after the first /metrics scrape: ${f(scrapedRss, 1)} MB; after the load and 100,000 more calls: ${f(afterRss, 1)} MB`,
);
console.log(
  `flyte-agent run bench/noop-task.mjs, spawn to exit: cold ${f(runTimes[0])} ms, warm median ${f(median(runTimes.slice(1)))} ms (${runTimes
    .slice(1)
    .map((t) => f(t))
    .join(", ")})`,
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
