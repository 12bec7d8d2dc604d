/**
 * The scaffolder end to end, as a user meets it before anything is published: `npm pack`, then
 * `npx --package <tarball> flyte-agent new <name>`, then the next steps it prints, verbatim, for every
 * template; and the image `deploy --out` describes, built the way Docker would build it (see
 * docker-context.ts) and started. Needs a built dist/ (`npm test` builds first) and an npm cache
 * holding the dependencies (`npm ci` fills it); the installs prefer that cache.
 */
import { execa, type Options } from "execa";
import { existsSync } from "node:fs";
import { copyFile, cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emulateDockerBuild } from "../support/docker-context.js";

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
const env: Record<string, string> = {
  ...(Object.fromEntries(
    Object.entries(process.env).filter(
      ([k, v]) => v !== undefined && !/^(npm_|VITEST|NODE_OPTIONS$|NODE_ENV$|FORCE_COLOR$)/i.test(k),
    ),
  ) as Record<string, string>),
  NO_COLOR: "1",
  // Installs take what the checkout's `npm ci` put in the cache instead of asking the registry.
  npm_config_prefer_offline: "true",
};
const sh = (cmd: string, args: string[], cwd: string, options: Options = {}) =>
  execa(cmd, args, { cwd, env, extendEnv: false, all: true, reject: false, stdin: "ignore", ...options });

function check(r: { exitCode?: number; all?: unknown; command: string }): void {
  if (r.exitCode !== 0) throw new Error(`${r.command} exited ${r.exitCode}:\n${String(r.all)}`);
}

/** Waits for a server's log to name the port it bound, or for the process to end. */
function boundPort(server: ReturnType<typeof sh>): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let out = "";
    server.all?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = /127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void server.then((r) => reject(new Error(`serve exited ${r.exitCode} before listening:\n${out}`)));
  });
}

async function stop(server: ReturnType<typeof sh>): Promise<void> {
  if (server.pid !== undefined) process.kill(-server.pid, "SIGTERM");
  await server;
}

describe("generated projects", () => {
  let root = "";
  let tarball = "";
  let runtimeTarball = "";
  const steps = new Map<string, string[]>();

  beforeAll(async () => {
    if (!existsSync(join(repo, "dist/testing/index.js"))) {
      throw new Error("dist/ is missing: run `npm run build` before this test (npm test does)");
    }
    root = await mkdtemp(join(tmpdir(), "flyte-agent-e2e-"));
    // dist/ is already built; packing must not rebuild it under the feet of other tests.
    const pack = async (dir: string) => {
      const r = await sh("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", root], dir);
      check(r);
      return join(root, (JSON.parse(String(r.stdout)) as { filename: string }[])[0]!.filename);
    };
    // Nothing is published yet: the CLI's tarball and the runtime's it depends on.
    tarball = await pack(repo);
    runtimeTarball = await pack(join(repo, "packages/runtime"));
    for (const kind of kinds) {
      // As the README says: npx runs the packed CLI, which points the project at that tarball.
      const r = await sh(
        "npx",
        [
          "--yes",
          "--package",
          runtimeTarball,
          "--package",
          tarball,
          "flyte-agent",
          "new",
          `${kind}-demo`,
          "--template",
          kind,
          "--yes",
        ],
        root,
      );
      check(r);
      const printed = String(r.stdout).split("Next steps:\n")[1] ?? "";
      steps.set(
        kind,
        printed
          .split("\n")
          .map((l) => l.trim())
          .filter(Boolean),
      );
    }
  }, 300_000);

  afterAll(async () => {
    // npx keeps the tarball's install in its cache; drop it.
    const cache = join(process.env.npm_config_cache ?? join(homedir(), ".npm"), "_npx");
    for (const e of await readdir(cache).catch(() => [] as string[])) {
      const pkg = await readFile(join(cache, e, "package.json"), "utf8").catch(() => "");
      if (root && pkg.includes(root.slice(1))) await rm(join(cache, e), { recursive: true, force: true });
    }
    if (root) await rm(root, { recursive: true, force: true });
  });

  describe.each(kinds)("the %s template", (kind) => {
    const dir = () => join(root, `${kind}-demo`);

    it("depends on the tarballs it was made from and prints the steps this test follows", async () => {
      const pkg = JSON.parse(await readFile(join(dir(), "package.json"), "utf8"));
      expect(pkg.dependencies["@flyte-agent/runtime"]).toBe(`file:${runtimeTarball}`);
      expect(pkg.devDependencies["flyte-agent"]).toBe(`file:${tarball}`);
      expect(steps.get(kind)).toEqual([
        `cd ${kind}-demo`,
        "npm install",
        "npm test",
        "npm run run",
        "npm run serve",
      ]);
    });

    it("follows the printed next steps verbatim: install, test, run, serve", async () => {
      const [cd, install, test, run, serve] = steps.get(kind)!;
      const step = (command: string) => sh("sh", ["-c", `${cd} && ${command}`], root);
      check(await step(install!));
      const tested = await step(test!);
      check(tested);
      expect(String(tested.all)).toMatch(/Tests\s+\d+ passed/);
      const ran = await step(run!);
      check(ran);
      expect(String(ran.all)).toMatch(/SUCCEEDED/);
      expect(String(ran.all)).toMatch(runOutput[kind]);
      // The serve step verbatim, with a free port instead of 8000 and no metrics port (tests share
      // the machine); a process group of its own so stopping it stops npm and the server.
      const server = sh(
        "sh",
        ["-c", `${cd} && ${serve} -- --host 127.0.0.1 --port 0 --no-prometheus --timeout 60`],
        root,
        { buffer: false, detached: true },
      );
      try {
        const port = await boundPort(server);
        const health = await sh("node", ["dist/health-check.js"], dir(), {
          env: { ...env, PORT: String(port) },
        });
        expect(health.exitCode).toBe(0);
        const r = await sh("npm", ["run", "run", "--", "--endpoint", `127.0.0.1:${port}`], dir());
        check(r);
        expect(String(r.all)).toMatch(runOutput[kind]);
      } finally {
        await stop(server);
      }
    }, 300_000);

    it("builds, from deploy --out's Dockerfile, an image that starts the server", async () => {
      // The project as a user would ship it: both packages vendored into the build context (a path
      // outside it is refused), installed once so the lockfile names them.
      const project = join(root, `${kind}-image`);
      await cp(dir(), project, {
        recursive: true,
        filter: (src) => !/\/(node_modules|dist)$/.test(src),
      });
      await copyFile(tarball, join(project, "flyte-agent.tgz"));
      await copyFile(runtimeTarball, join(project, "flyte-agent-runtime.tgz"));
      const pkg = JSON.parse(await readFile(join(project, "package.json"), "utf8"));
      pkg.dependencies["@flyte-agent/runtime"] = "file:./flyte-agent-runtime.tgz";
      pkg.devDependencies["flyte-agent"] = "file:./flyte-agent.tgz";
      await writeFile(join(project, "package.json"), JSON.stringify(pkg, null, 2));
      await rm(join(project, "package-lock.json"), { force: true });
      check(await sh("npm", ["install", "--package-lock-only", "--no-audit", "--no-fund"], project));

      const out = join(root, `${kind}-deploy`);
      const deploy = await sh(
        "node",
        [bin, "deploy", "--image", `${kind}:1`, "--dir", project, "--out", out],
        project,
      );
      check(deploy);
      const dockerfile = await readFile(join(out, "Dockerfile"), "utf8");
      // The file new wrote and the file deploy writes are one generator's output.
      const written = await readFile(join(project, "Dockerfile"), "utf8");
      expect(dockerfile.replace(/^COPY (flyte-agent(-runtime)?\.tgz) \.\/\1\n/gm, "")).toBe(written);
      expect(dockerfile.match(/^COPY flyte-agent\.tgz/gm)).toHaveLength(2);
      expect(dockerfile.match(/^COPY flyte-agent-runtime\.tgz/gm)).toHaveLength(2);
      const image = await emulateDockerBuild(dockerfile, project, join(root, `${kind}-stages`), env);
      // No dev tooling in the runtime stage: the runtime, not the CLI and its toolchain.
      expect(image.cmd[0]).toMatch(/node_modules\/\.bin\/flyte-agent-serve$/);
      expect(existsSync(join(image.workdir, "node_modules/@flyte-agent/runtime/dist/index.js"))).toBe(true);
      for (const dev of ["flyte-agent", "kubernetes-models", "tsx", "esbuild", "execa"])
        expect(existsSync(join(image.workdir, "node_modules", dev)), dev).toBe(false);
      expect(existsSync(join(image.workdir, "node_modules/typescript"))).toBe(false);
      expect(existsSync(join(image.workdir, "node_modules/vitest"))).toBe(false);
      expect(existsSync(join(image.workdir, "src"))).toBe(false);
      const server = sh(
        image.cmd[0]!,
        [...image.cmd.slice(1), "--host", "127.0.0.1", "--port", "0", "--no-prometheus", "--timeout", "60"],
        image.workdir,
        { buffer: false, detached: true, env: image.env },
      );
      try {
        const port = await boundPort(server);
        const health = await sh("node", ["dist/health-check.js"], image.workdir, {
          env: { ...image.env, PORT: String(port) },
        });
        expect(health.exitCode).toBe(0);
      } finally {
        await stop(server);
      }
    }, 300_000);
  });
});
