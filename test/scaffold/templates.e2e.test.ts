/**
 * The scaffolder end to end, as a user meets it: pack flyte-agent, scaffold every template, install
 * the projects with the tarball as their flyte-agent dependency, and run each project's own scripts.
 * Needs a built dist/ (`npm test` builds first) and an npm cache holding the dependencies (`npm ci`
 * fills it); nothing else is fetched when the cache is warm.
 */
import { execa, type Options } from "execa";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = new URL("../..", import.meta.url).pathname;
const bin = join(repo, "bin/flyte-agent.js");
const kinds = ["async", "sync", "sensor"] as const;
/** What each template's run script prints besides the final phase (its stand-in's answer). */
const runOutput: Record<(typeof kinds)[number], RegExp> = {
  async: /hello hello/,
  sync: /13\.5/,
  sensor: /SUCCEEDED/,
};

// The child npm and vitest processes must not inherit this run's npm or vitest settings.
const env = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(npm_|VITEST|NODE_OPTIONS$|NODE_ENV$|FORCE_COLOR$)/i.test(k),
    ),
  ),
  NO_COLOR: "1",
};
const sh = (cmd: string, args: string[], cwd: string, options: Options = {}) =>
  execa(cmd, args, { cwd, env, extendEnv: false, all: true, reject: false, stdin: "ignore", ...options });

function check(r: { exitCode?: number; all?: unknown; command: string }): void {
  if (r.exitCode !== 0) throw new Error(`${r.command} exited ${r.exitCode}:\n${String(r.all)}`);
}

describe("generated projects", () => {
  let root = "";

  beforeAll(async () => {
    if (!existsSync(join(repo, "dist/testing/index.js"))) {
      throw new Error("dist/ is missing: run `npm run build` before this test (npm test does)");
    }
    root = await mkdtemp(join(tmpdir(), "flyte-agent-e2e-"));
    // dist/ is already built; packing must not rebuild it under the feet of other tests.
    const pack = await sh("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", root], repo);
    check(pack);
    const tarball = (JSON.parse(String(pack.stdout)) as { filename: string }[])[0]!.filename;

    for (const kind of kinds) {
      const r = await sh(
        "node",
        [bin, "new", `${kind}-demo`, "--template", kind, "--yes", "--flyte-agent", `file:../${tarball}`],
        root,
      );
      check(r);
    }
    // One install for the three projects (npm workspaces), so the test stays within CI's budget.
    await writeFile(
      join(root, "package.json"),
      JSON.stringify({ name: "e2e-root", private: true, workspaces: kinds.map((k) => `${k}-demo`) }),
    );
    check(
      await sh("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], root),
    );
  }, 300_000);

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("installs flyte-agent from the packed tarball with the templates inside", async () => {
    const installed = JSON.parse(await readFile(join(root, "node_modules/flyte-agent/package.json"), "utf8"));
    const own = JSON.parse(await readFile(join(repo, "package.json"), "utf8"));
    expect(installed.version).toBe(own.version);
    for (const kind of kinds)
      expect(existsSync(join(root, "node_modules/flyte-agent/templates", kind, "_gitignore"))).toBe(true);
  });

  describe.each(kinds)("the %s template", (kind) => {
    const dir = () => join(root, `${kind}-demo`);

    it("passes its own tests", async () => {
      const r = await sh("npm", ["test"], dir());
      check(r);
      expect(String(r.all)).toMatch(/Tests\s+\d+ passed/);
    }, 120_000);

    it("type-checks and builds", async () => {
      check(await sh("npm", ["run", "typecheck"], dir()));
      check(await sh("npm", ["run", "build"], dir()));
      expect(existsSync(join(dir(), "dist/agent.js"))).toBe(true);
      expect(existsSync(join(dir(), "dist/health-check.js"))).toBe(true);
    }, 120_000);

    it("serves the agent it finds through package.json, healthy, and runs the task against it", async () => {
      // A process group of its own, so stopping it stops npm and the server npm started; --timeout is
      // the safety net should a test fail before stopping it.
      const args = [
        "run",
        "serve",
        "--",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--no-prometheus",
        "--timeout",
        "30",
      ];
      const server = sh("npm", args, dir(), { buffer: false, detached: true });
      try {
        // The banner names the bound address once the server listens.
        const port = await new Promise<number>((resolve, reject) => {
          let out = "";
          server.all?.on("data", (chunk: Buffer) => {
            out += chunk.toString();
            const m = /127\.0\.0\.1:(\d+)/.exec(out);
            if (m) resolve(Number(m[1]));
          });
          void server.then((r) => reject(new Error(`serve exited ${r.exitCode} before listening:\n${out}`)));
        });
        const health = await sh("node", ["dist/health-check.js"], dir(), {
          env: { ...env, PORT: String(port) },
        });
        expect(health.exitCode).toBe(0);
        const r = await sh("npm", ["run", "run", "--", "--endpoint", `127.0.0.1:${port}`], dir());
        check(r);
        expect(String(r.all)).toMatch(runOutput[kind]);
      } finally {
        if (server.pid !== undefined) process.kill(-server.pid, "SIGTERM");
        await server;
      }
    }, 60_000);

    it("runs its task with the run script", async () => {
      const r = await sh("npm", ["run", "run"], dir());
      check(r);
      expect(String(r.all)).toMatch(/SUCCEEDED/);
      expect(String(r.all)).toMatch(runOutput[kind]);
    }, 120_000);
  });
});
