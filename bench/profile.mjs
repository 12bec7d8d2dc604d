// Per-call CPU of the agent server against the bare grpc-js server, and where it goes: the figure to
// judge a hot-path change by on a shared machine (rates move with the neighbours' load; the CPU a
// fixed number of calls costs the server moves much less).
//
//   node bench/profile.mjs [--method=GetTask|CreateTask|ExecuteTaskSync|all] [--conns=50] [--n=20000]
//                          [--reps=3] [--cpu-prof] [--top=25] [--server-flags="..."]
//
// Needs `npm run build`. Prints, per method and repetition, the server's CPU µs per call (user +
// system from /proc, around `n` h2load calls after a warm-up) for flyte-agent and bare grpc-js.
// `--cpu-prof` also runs the agent server under `node --cpu-prof` and prints the functions with the
// most self time over the whole run, grouped by where their code lives.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  answers,
  cpuSeconds,
  ensureH2load,
  h2load,
  root,
  startAgentServer,
  startBareServer,
  stop,
} from "./h2.mjs";

const arg = (name, dflt) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const methodArg = arg("method", "all");
const methods = methodArg === "all" ? ["GetTask", "CreateTask", "ExecuteTaskSync"] : [methodArg];
const conns = Number(arg("conns", "50"));
const n = Number(arg("n", "20000"));
const reps = Number(arg("reps", "3"));
const top = Number(arg("top", "25"));
const profile = process.argv.includes("--cpu-prof");
const serverFlags = arg("server-flags", "").split(" ").filter(Boolean);

ensureH2load();
const profDir = mkdtempSync(path.join(tmpdir(), "flyte-agent-prof-"));
const agent = await startAgentServer(serverFlags, {
  nodeArgs: profile ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [],
});
const bareProfDir = mkdtempSync(path.join(tmpdir(), "flyte-agent-prof-bare-"));
const bare = await startBareServer(await answers(`127.0.0.1:${agent.port}`), {
  nodeArgs: profile ? ["--cpu-prof", `--cpu-prof-dir=${bareProfDir}`] : [],
});
// Calls each server answered, for the profile's per-call figures (the answer checks count too).
const calls = { agent: 3, bare: 3 };

/** Server CPU µs per call over `n` calls (after a warm-up). */
function perCall(server, method) {
  const before = cpuSeconds(server.child.pid);
  const r = h2load(server.port, method, conns, n);
  calls[server === agent ? "agent" : "bare"] += n;
  return { us: ((cpuSeconds(server.child.pid) - before) / n) * 1e6, rps: r.rps, p99: r.p99 };
}

for (const method of methods) {
  h2load(agent.port, method, conns, 2000);
  h2load(bare.port, method, conns, 2000);
  calls.agent += 2000;
  calls.bare += 2000;
  for (let i = 0; i < reps; i++) {
    const a = perCall(agent, method);
    const b = perCall(bare, method);
    console.log(
      `${method} c=${conns}: flyte-agent ${a.us.toFixed(0)} µs/call (${a.rps.toFixed(0)} req/s, p99 ${a.p99.toFixed(2)} ms); ` +
        `bare ${b.us.toFixed(0)} µs/call (${b.rps.toFixed(0)} req/s, p99 ${b.p99.toFixed(2)} ms); CPU ratio ${(b.us / a.us).toFixed(2)}`,
    );
  }
}
await stop(agent.child);
await stop(bare.child);

/** Prints where a server's CPU went: per call by package, then the top functions. */
function analyze(dir, label, nCalls, detail) {
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) throw new Error(`no profile written in ${dir}`);
  const prof = JSON.parse(readFileSync(path.join(dir, file), "utf8"));
  const total = prof.endTime - prof.startTime;
  const per = total / prof.samples.length;
  const where = (url) => {
    if (!url) return "(native/gc/idle)";
    if (url.includes("/node_modules/")) return url.replace(/.*\/node_modules\/((?:@[^/]+\/)?[^/]+).*/, "$1");
    if (url.startsWith("node:")) return "node";
    if (url.includes("/dist/gen/")) return "ts-proto (packages/runtime/dist/gen)";
    if (url.includes(root)) return "flyte-agent";
    return url;
  };
  const byFn = new Map();
  const byWhere = new Map();
  let busy = 0;
  for (const node of prof.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)" || functionName === "(program)") continue;
    const t = (node.hitCount ?? 0) * per;
    busy += t;
    const w = where(url);
    const key = `${functionName || "(anonymous)"} ${url ? `${url.replace(root + "/", "").replace(/^file:\/\//, "")}:${lineNumber + 1}` : ""} [${w}]`;
    byFn.set(key, (byFn.get(key) ?? 0) + t);
    byWhere.set(w, (byWhere.get(w) ?? 0) + t);
  }
  // Inclusive time of the project's functions (self + callees), each counted once per stack.
  const byId = new Map(prof.nodes.map((node) => [node.id, node]));
  const inclusive = new Map();
  const walk = (node, open) => {
    const { functionName, url, lineNumber } = node.callFrame;
    let t = (node.hitCount ?? 0) * per;
    const key = `${functionName || "(anonymous)"} ${url.replace(root + "/", "").replace(/^file:\/\//, "")}:${lineNumber + 1}`;
    const mine = where(url) === "flyte-agent" && !open.has(key);
    if (mine) open.add(key);
    for (const id of node.children ?? []) t += walk(byId.get(id), open);
    if (mine) {
      open.delete(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + t);
    }
    return t;
  };
  walk(prof.nodes[0], new Set());
  const pct = (t) => `${((t / busy) * 100).toFixed(1)}%`;
  const us = (t) => `${(t / nCalls).toFixed(1)} µs`;
  console.log(
    `\n${label}: profile ${path.join(dir, file)}: busy ${(busy / 1e6).toFixed(2)} s of ${(total / 1e6).toFixed(2)} s, ${us(busy)} per call over ${nCalls} calls (start-up included)`,
  );
  for (const [w, t] of [...byWhere].sort((a, b) => b[1] - a[1]))
    if (t / nCalls >= 0.05) console.log(`  ${us(t).padStart(10)}  ${pct(t).padStart(6)}  ${w}`);
  if (!detail) return;
  console.log("");
  for (const [k, t] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${pct(t).padStart(6)}  ${k}`);
  console.log("\nflyte-agent functions, inclusive:");
  for (const [k, t] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${pct(t).padStart(6)}  ${k}`);
}

if (profile) {
  analyze(bareProfDir, "bare grpc-js", calls.bare, false);
  analyze(profDir, "flyte-agent", calls.agent, true);
}
