// The load benchmark (part of `npm run bench`; alone: `node bench/load.mjs [--quick]`): one agent
// server process, one executor process (this one) driving 10,000 concurrent async tasks with
// FlytePropeller-like polling, then 1,000 concurrent sync calls. Needs `npm run build` first.
// Flags: --quick (2,000 async + 200 sync), --async=N, --sync=N, --duration-ms=N, --resync-ms=N,
// --max-calls=N, --server-flags="...". See bench/README.md, "### Load".
import os from "node:os";
import { fileURLToPath } from "node:url";
import { formatLoadReport, runLoad, startLoadServer } from "./load-driver.mjs";

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
    syncCalls: int(argv, "sync", quick ? 200 : 1_000),
    taskDurationMs: int(argv, "duration-ms", 3_000),
    resyncIntervalMs: int(argv, "resync-ms", 1_000),
    maxConcurrentCalls: int(argv, "max-calls", 100),
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
  const tasks = report.async.tasks;
  console.log(
    `\n### Load\n\nnode ${process.version}, ${os.cpus().length} cores, server flags: ${serverFlags.join(" ") || "(defaults)"}\n`,
  );
  console.log(formatLoadReport(report));
  // What the same number of tasks means under FlytePropeller's defaults (resync 30 s, 10 qps).
  console.log(
    `\nwith propeller's defaults (resyncInterval 30 s, readRateLimiter 10 qps / burst 100), ${tasks} running tasks ask for ${(tasks / 30).toFixed(0)} GetTask/s; the limiter allows 10, so each task is polled about every ${(tasks / 10).toFixed(0)} s instead of 30 s`,
  );
  const failed =
    report.async.succeeded !== tasks ||
    report.sync.succeeded !== report.sync.calls ||
    Object.keys(report.async.rpcErrors).length > 0 ||
    Object.keys(report.sync.rpcErrors).length > 0;
  if (failed) throw new Error("the load benchmark saw errors (see FAILED above): the target is zero");
  return report;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runLoadBench();
