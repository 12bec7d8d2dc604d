/**
 * The README Quickstart on a fresh clone, as a newcomer types it: `npm ci`, then the README's
 * `npx flyte-agent run ...` verbatim. npx links the checkout into its cache and runs `prepare`; that
 * must find dist/ up to date instead of compiling a second time (the build is incremental).
 */
import { execa } from "execa";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readmeQuickstart } from "../support/readme.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const env = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(npm_|VITEST|NODE_OPTIONS$|NODE_ENV$|FORCE_COLOR$)/i.test(k),
    ),
  ),
  NO_COLOR: "1",
  // A warm cache (the checkout's own `npm ci` filled it) keeps the install off the network.
  npm_config_prefer_offline: "true",
};

describe("the README quickstart on a fresh clone", () => {
  let root = "";
  let clone = "";
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "flyte-agent-clone-"));
    clone = join(root, "flyte-agent");
    await execa("git", ["clone", "--quiet", repo, clone]);
  });
  afterAll(async () => {
    // npx keeps a directory per linked checkout; drop the one this clone made.
    const cache = join(process.env.npm_config_cache ?? join(homedir(), ".npm"), "_npx");
    for (const e of await readdir(cache).catch(() => [] as string[])) {
      const pkg = await readFile(join(cache, e, "package.json"), "utf8").catch(() => "");
      if (root && pkg.includes(root.slice(1))) await rm(join(cache, e), { recursive: true, force: true });
    }
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("installs, then runs the warehouse example without compiling again", async () => {
    const [install, run] = (await readmeQuickstart()).split(" && ");
    expect(install).toBe("npm ci");
    const opts = {
      cwd: clone,
      env: { ...env, FLYTE_WAREHOUSE_JOBS_DIR: join(root, "jobs") },
      extendEnv: false,
    };
    const ci = await execa("sh", ["-c", install!], { ...opts, all: true, reject: false });
    expect(ci.exitCode, String(ci.all)).toBe(0);
    const built = (await stat(join(clone, "dist/cli/main.js"))).mtimeMs;
    const r = await execa("sh", ["-c", run!], { ...opts, reject: false });
    // Only the agent's own log lines (JSON, not a terminal) on stderr: no warning, no error.
    expect(r.stderr).not.toMatch(/"level":"(warn|error|fatal)"|^error:/m);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/SUCCEEDED/);
    // npx's `prepare` found the build up to date: the CLI it ran is the one `npm ci` compiled.
    expect((await stat(join(clone, "dist/cli/main.js"))).mtimeMs).toBe(built);
  }, 600_000);
});
