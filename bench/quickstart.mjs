// `npm run bench:quickstart`: the README's first command on a fresh clone, timed. Clones the
// committed HEAD into a temp dir, runs `npm ci`, then the README's `npx flyte-agent run ...` twice,
// and prints the wall time of each step. The first `npx` run must cost about what the second does:
// npx links the clone into its cache and runs `prepare` there, which must not compile a second time.
// The network is used only as `npm ci` uses it (a warm npm cache makes it quicker, not different).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const readme = readFileSync(path.join(root, "README.md"), "utf8");

/** The Quickstart's first shell command, without its trailing comment. */
function quickstartCommand(text) {
  const section = text.slice(text.indexOf("## Quickstart"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error("README.md has no ```sh block under ## Quickstart");
  return block
    .split("\n")[0]
    .replace(/\s+#.*$/, "")
    .trim();
}

const command = quickstartCommand(readme);
const [install, run] = command.split(" && ");
if (install !== "npm ci" || !run?.startsWith("npx flyte-agent "))
  throw new Error(`unexpected quickstart command: ${command}`);

// The child npm must not inherit this script's npm settings (npm run sets npm_* variables).
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
const dir = mkdtempSync(path.join(tmpdir(), "flyte-agent-quickstart-"));
const jobs = mkdtempSync(path.join(tmpdir(), "flyte-agent-quickstart-jobs-"));

function timed(label, cmd) {
  const start = performance.now();
  const r = spawnSync("sh", ["-c", cmd], {
    cwd: dir,
    env: { ...env, FLYTE_WAREHOUSE_JOBS_DIR: jobs, NO_COLOR: "1" },
    encoding: "utf8",
  });
  const seconds = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`${label} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return { label, seconds: Math.round(seconds * 100) / 100 };
}

/** npx keeps one directory per package spec; remove the one this clone made. */
function removeNpxEntry() {
  const cache = path.join(process.env.npm_config_cache ?? path.join(homedir(), ".npm"), "_npx");
  let entries = [];
  try {
    entries = readdirSync(cache);
  } catch {
    return;
  }
  for (const e of entries) {
    try {
      if (readFileSync(path.join(cache, e, "package.json"), "utf8").includes(path.basename(dir)))
        rmSync(path.join(cache, e), { recursive: true, force: true });
    } catch {
      // an entry without package.json is not ours
    }
  }
}

try {
  execFileSync("git", ["clone", "--quiet", root, dir]);
  const rows = [timed("npm ci", install), timed("first run", run), timed("second run", run)];
  for (const r of rows) console.log(`${r.label.padEnd(12)} ${r.seconds.toFixed(2)} s`);
  const ratio = rows[1].seconds / rows[2].seconds;
  console.log(`first/second ${ratio.toFixed(2)}× (target: within 2×)`);
  console.log(`command: ${command}`);
} finally {
  removeNpxEntry();
  rmSync(dir, { recursive: true, force: true });
  rmSync(jobs, { recursive: true, force: true });
}
