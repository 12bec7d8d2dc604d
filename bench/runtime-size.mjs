// `npm run bench:runtime-size` (after `npm run build`): what an agent image carries and what importing
// the package roots costs.
// 1. Packs both packages (as nothing is published yet), creates a project with `flyte-agent new`
//    pointed at the two tarballs, writes its lockfile, then `npm ci --omit=dev` (what the Dockerfile's
//    runtime stage runs) and measures node_modules: disk usage (`du -sk`, as `du -sh` reports), the
//    sum of file sizes and the file count, with the largest packages; then again after the runtime
//    stage's prune (`PRUNE_DEPENDENCIES`, the same command the Dockerfile runs), which is what the
//    image holds.
// 2. RSS after `import("@flyte-agent/runtime")` and after `import("flyte-agent")`, each in a fresh
//    Node process started in the repository (resolved by package name), median of 5.
// The network is used only as npm uses it (the npm cache of `npm ci` makes it offline).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const { PRUNE_DEPENDENCIES } = await import("../dist/deploy/dockerfile.js");
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const MB = 1024 * 1024;
// The child npm must not inherit this script's npm settings (npm run sets npm_* variables).
const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))),
  npm_config_prefer_offline: "true",
  npm_config_audit: "false",
  npm_config_fund: "false",
};

function sh(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Sum of the sizes of the files under `dir` (symlinks not followed). */
function apparentBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += apparentBytes(full);
    else if (entry.isFile()) total += statSync(full).size;
  }
  return total;
}

/** The number of files under `dir`. */
function fileCount(dir) {
  let n = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) n += fileCount(path.join(dir, entry.name));
    else if (entry.isFile()) n += 1;
  }
  return n;
}

/** Disk usage of `dir` in bytes, as `du -sk` counts it. */
const diskBytes = (dir) =>
  Number(execFileSync("du", ["-sk", dir], { encoding: "utf8" }).split("\t")[0]) * 1024;

/** The packages of a node_modules directory (scoped ones as `@scope/name`). */
function packagesOf(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name.startsWith(".")) continue;
    if (name.startsWith("@")) for (const sub of readdirSync(path.join(dir, name))) out.push(`${name}/${sub}`);
    else out.push(name);
  }
  return out;
}

function imageSize() {
  const work = mkdtempSync(path.join(tmpdir(), "flyte-agent-runtime-size-"));
  try {
    const pack = (dir) =>
      path.join(
        work,
        JSON.parse(sh("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], dir))[0]
          .filename,
      );
    const cli = pack(root);
    const runtime = pack(path.join(root, "packages/runtime"));
    const args = [
      "new",
      "demo",
      "--template",
      "async",
      "--yes",
      "--runtime",
      `file:${runtime}`,
      "--flyte-agent",
      `file:${cli}`,
    ];
    sh("node", [path.join(root, "bin/flyte-agent.js"), ...args], work);
    const project = path.join(work, "demo");
    sh("npm", ["install", "--package-lock-only"], project);
    sh("npm", ["ci", "--omit=dev"], project);
    const modules = path.join(project, "node_modules");
    const measure = () => ({
      disk: diskBytes(modules),
      apparent: apparentBytes(modules),
      files: fileCount(modules),
      largest: packagesOf(modules)
        .map((name) => ({ name, bytes: diskBytes(path.join(modules, name)) }))
        .sort((a, b) => b.bytes - a.bytes)
        .slice(0, 8),
    });
    const installed = measure();
    // The runtime stage of the Dockerfile then deletes the files a server never reads.
    sh("sh", ["-c", PRUNE_DEPENDENCIES], project);
    return {
      installed,
      image: measure(),
      packages: packagesOf(modules).length,
      toolchain: ["flyte-agent", "kubernetes-models", "tsx", "esbuild", "execa", "typescript"].filter((p) =>
        packagesOf(modules).includes(p),
      ),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function importRss(specifier) {
  const script = `await import(${JSON.stringify(specifier)}); console.log(process.memoryUsage().rss);`;
  const runs = Array.from({ length: 5 }, () =>
    Number(sh("node", ["--input-type=module", "-e", script], root)),
  );
  return runs.sort((a, b) => a - b)[2];
}

const size = imageSize();
const mb = (b) => `${(b / MB).toFixed(1)} MB`;
console.log(`A generated project (async template), ${size.packages} production packages:`);
for (const [label, m] of [
  ["npm ci --omit=dev", size.installed],
  ["the image (after the runtime stage's prune)", size.image],
]) {
  console.log(`  ${label}: node_modules ${mb(m.disk)} on disk (du), ${mb(m.apparent)} in ${m.files} files`);
  console.log(`    largest: ${m.largest.map((p) => `${p.name} ${mb(p.bytes)}`).join(", ")}`);
}
console.log(
  `  toolchain packages present: ${size.toolchain.length === 0 ? "none" : size.toolchain.join(", ")}`,
);
for (const specifier of ["@flyte-agent/runtime", "flyte-agent"]) {
  console.log(`RSS after import("${specifier}"): ${mb(importRss(specifier))} (median of 5)`);
}
