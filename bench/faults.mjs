// `node bench/run.mjs --only=faults` or `node bench/faults.mjs` (after `npm run build`): what hung agent calls cost the good ones. The real
// `serve agent` binary serves the fault fixture agents; good GetTask calls are measured alone, then
// again while N calls hang (the agent ignores its signal), then the hung calls are cancelled and the
// server's in-flight gauge and RSS are read back. Figures go to bench/README.md ("Faults").
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { setTimeout } from "node:timers";
import { credentials, Metadata } from "@grpc/grpc-js";
import { serveAgentArgs } from "./serve-command.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Runs the faults part of `npm run bench` and prints its table. */
export async function runFaultsBench(argv = process.argv.slice(2)) {
  const { AsyncAgentServiceClient } = await import(
    path.join(root, "packages/runtime/dist/gen/flyteidl/service/agent.js")
  );
  const arg = (name, d) => Number((argv.find((a) => a.startsWith(`--${name}=`)) ?? `=${d}`).split("=")[1]);
  const hungCount = arg("hung", 500);
  const goodCount = arg("good", 5000);
  const concurrency = arg("concurrency", 50);

  const child = spawn(
    process.execPath,
    serveAgentArgs({
      port: 0,
      module: "test/reliability/fixtures/fault-agents.ts",
      extra: ["--log-level", "info"],
    }),
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
  );
  let hangingStarted = 0;
  let onHanging = () => {};
  const listening = new Promise((resolve) => {
    createInterface({ input: child.stdout }).on("line", (text) => {
      let line;
      try {
        line = JSON.parse(text);
      } catch {
        return;
      }
      if (line.msg === "agent server listening") resolve(line);
      if (line.msg === "hang started") {
        hangingStarted += 1;
        onHanging();
      }
    });
  });
  const { port, metrics_port: metricsPort } = await listening;
  const client = new AsyncAgentServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const meta = (m) => Buffer.from(JSON.stringify(m));
  const get = (mode, deadlineMs) =>
    new Promise((resolve, reject) => {
      const call = client.getTask(
        {
          taskType: "fault",
          taskCategory: { name: "fault", version: 0 },
          resourceMeta: meta({ mode, id: mode }),
          outputPrefix: "",
        },
        new Metadata(),
        deadlineMs ? { deadline: Date.now() + deadlineMs } : {},
        (err, res) => (err ? reject(err) : resolve(res)),
      );
      get.last = call;
    });

  const rssMb = () => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  };
  const inFlight = async () => {
    const text = await (await globalThis.fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    return Number(/^flyte_agent_requests_in_flight (\d+)$/m.exec(text)?.[1]);
  };

  async function goodRound() {
    const latencies = [];
    let errors = 0;
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < goodCount) {
          next += 1;
          const t = performance.now();
          try {
            await get("ok");
          } catch {
            errors += 1;
          }
          latencies.push(performance.now() - t);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    return { rps: goodCount / seconds, p50: q(0.5), p99: q(0.99), errors };
  }

  await goodRound(); // warm-up
  const rssBefore = rssMb();
  const alone = await goodRound();
  const hung = [];
  const hungAll = new Promise((resolve) => (onHanging = () => hangingStarted >= hungCount && resolve()));
  for (let i = 0; i < hungCount; i++) {
    hung.push(get("hang", 600_000).catch((e) => e.code));
    hung[i].call = get.last;
  }
  await hungAll;
  const rssHung = rssMb();
  const beside = await goodRound();
  for (const h of hung) h.call.cancel();
  const codes = await Promise.all(hung);
  // The server answers a cancelled call when grpc-js tells it; read the gauge until it settles.
  let left = await inFlight();
  for (let i = 0; i < 50 && left > 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
    left = await inFlight();
  }
  const rssAfter = rssMb();
  client.close();
  child.kill("SIGTERM");

  const f = (n) => n.toFixed(2);
  console.log(`good GetTask calls: ${goodCount} at concurrency ${concurrency}; hung calls: ${hungCount}`);
  console.log(`| | alone | beside ${hungCount} hung | ratio |`);
  console.log(`|---|---|---|---|`);
  console.log(
    `| throughput (calls/s) | ${alone.rps.toFixed(0)} | ${beside.rps.toFixed(0)} | ${f(beside.rps / alone.rps)}× |`,
  );
  console.log(`| p50 (ms) | ${f(alone.p50)} | ${f(beside.p50)} | ${f(beside.p50 / alone.p50)}× |`);
  console.log(`| p99 (ms) | ${f(alone.p99)} | ${f(beside.p99)} | ${f(beside.p99 / alone.p99)}× |`);
  console.log(`| errors | ${alone.errors} | ${beside.errors} | |`);
  console.log(
    `server RSS: ${f(rssBefore)} MB before, ${f(rssHung)} MB with ${hungCount} hung calls, ${f(rssAfter)} MB after they were cancelled; in flight after: ${left}; hung calls ended with codes ${[...new Set(codes)].join(", ")}`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runFaultsBench();
