import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { DeployError } from "./errors.js";

/** The package managers a Dockerfile can install with; each is known by its lockfile. */
export const PackageManager = { NPM: "npm", PNPM: "pnpm", YARN: "yarn" } as const;
export type PackageManager = (typeof PackageManager)[keyof typeof PackageManager];

/** The lockfile each package manager writes, which the image installs from exactly. */
export const LOCKFILES: Readonly<Record<PackageManager, string>> = {
  npm: "package-lock.json",
  pnpm: "pnpm-lock.yaml",
  yarn: "yarn.lock",
};

/** Options of {@link renderDockerfile}. */
export interface DockerfileOptions {
  /** Base image; a slim Node image keeps the agent small. @default "node:22-slim" */
  readonly baseImage?: string;
  /** Modules that register agents, passed to `serve agent --modules`. @default [] (the package's own registrations) */
  readonly modules?: readonly string[];
  /** gRPC port. @default 8000 */
  readonly port?: number;
  /** Prometheus port. @default 9090 */
  readonly prometheusPort?: number;
  /** Task types the server serves (its allowlist); empty serves every registered agent. @default [] */
  readonly taskTypes?: readonly string[];
  /** Seconds the server waits for in-flight calls on SIGTERM. @default 30 */
  readonly gracePeriodSeconds?: number;
  /**
   * The project has a `build` script (TypeScript compiled to {@link outDir}): a build stage with the
   * dev dependencies runs it, and the runtime stage gets production dependencies and the output only.
   * @default false
   */
  readonly build?: boolean;
  /** The build's output directory, copied into the runtime stage. @default "dist" */
  readonly outDir?: string;
  /** Whose install commands and lockfile the image uses. @default "npm" */
  readonly packageManager?: PackageManager;
  /** A script (relative to the project) that exits 0 when the server is healthy; becomes HEALTHCHECK. */
  readonly healthCheck?: string;
  /**
   * Paths inside the project that dependencies are installed from (`file:./vendor/x.tgz`): copied
   * in with package.json, since the install runs before the rest of the project is copied. @default []
   */
  readonly localDependencies?: readonly string[];
}

/**
 * Where the image installs the server's command, `flyte-agent-serve` of `@flyte-agent/runtime` (a
 * production dependency; the `flyte-agent` CLI is a dev dependency and stays out of the image); the
 * Deployment runs the same path.
 */
export const SERVE_BINARY = "/app/node_modules/.bin/flyte-agent-serve";

/** The arguments of `flyte-agent-serve agent` that a container runs; shared by the Dockerfile and the Deployment. */
export function serveArgs(options: {
  readonly port: number;
  readonly prometheusPort: number;
  readonly gracePeriodSeconds: number;
  readonly taskTypes: readonly string[];
  readonly modules: readonly string[];
}): string[] {
  const args = [
    "agent",
    "--port",
    String(options.port),
    "--prometheus-port",
    String(options.prometheusPort),
    "--grace-period",
    String(options.gracePeriodSeconds),
  ];
  if (options.taskTypes.length > 0) args.push("--task-types", options.taskTypes.join(","));
  for (const m of options.modules) args.push("--modules", m);
  return args;
}

/**
 * Deletes from the runtime image's installed dependencies the files an agent server never reads:
 * TypeScript sources and declarations (Node does not run TypeScript from `node_modules`) and the
 * source maps of compiled JavaScript. In a generated project that is about half of `node_modules`
 * (12 MB of 26 MB, 2,000 of 4,000 files: zod and grpc-js ship their sources). Only these file
 * types, never whole directories (a package's code may live in any folder), so no package can lose
 * code it loads.
 */
export const PRUNE_DEPENDENCIES =
  "find node_modules -type f \\( -name '*.ts' -o -name '*.cts' -o -name '*.mts' -o -name '*.js.map' -o -name '*.cjs.map' -o -name '*.mjs.map' -o -name '*.ts.map' \\) -delete";

/** The install commands of each package manager: everything (to build), or production only. */
const INSTALL: Readonly<Record<PackageManager, { all: string; production: string }>> = {
  npm: {
    all: "npm ci --no-audit --no-fund",
    production: "npm ci --omit=dev --no-audit --no-fund && npm cache clean --force",
  },
  pnpm: {
    all: "pnpm install --frozen-lockfile",
    production: "pnpm install --frozen-lockfile --prod",
  },
  yarn: {
    all: "yarn install --frozen-lockfile",
    production: "yarn install --frozen-lockfile --production && yarn cache clean",
  },
};

/**
 * Renders the Dockerfile of an agent project — the one `new` writes and `deploy` builds. A project
 * with a build script gets two stages: the build stage installs everything and compiles; the runtime
 * stage installs production dependencies from the lockfile and copies the build output, so no
 * compiler or test runner ships. Either way: a slim Node base, a non-root user, and `flyte-agent-serve
 * agent` on port 8000 with metrics on 9090. The project directory is the build context and must hold
 * `package.json` and the package manager's lockfile, with `@flyte-agent/runtime` as a dependency.
 * Without a build step the image serves the sources with production dependencies only, so they must
 * be JavaScript (tsx, which loads `.ts`, comes with the `flyte-agent` dev dependency).
 */
export function renderDockerfile(options: DockerfileOptions = {}): string {
  const port = options.port ?? 8000;
  const prometheusPort = options.prometheusPort ?? 9090;
  const pm = options.packageManager ?? PackageManager.NPM;
  const base = options.baseImage ?? "node:22-slim";
  const outDir = options.outDir ?? "dist";
  const args = serveArgs({
    port,
    prometheusPort,
    gracePeriodSeconds: options.gracePeriodSeconds ?? 30,
    taskTypes: options.taskTypes ?? [],
    modules: options.modules ?? [],
  });
  // pnpm and yarn come with Node through corepack.
  const corepack = pm === PackageManager.NPM ? [] : [`RUN corepack enable ${pm}`];
  const manifests = [
    `COPY package.json ${LOCKFILES[pm]} ./`,
    ...(options.localDependencies ?? []).map((p) => `COPY ${p} ./${p}`),
  ];
  const lines = ["# syntax=docker/dockerfile:1"];
  if (options.build) {
    lines.push(
      `FROM ${base} AS build`,
      "WORKDIR /app",
      ...corepack,
      "# Dependencies first, so source edits do not reinstall them.",
      ...manifests,
      `RUN ${INSTALL[pm].all}`,
      "COPY . .",
      `RUN ${pm} run build`,
      "",
      "# The runtime stage: production dependencies and the build output, no compiler or test runner.",
    );
  }
  lines.push(`FROM ${base}`, "ENV NODE_ENV=production", "WORKDIR /app", ...corepack, ...manifests);
  lines.push(
    "# Production dependencies without the TypeScript sources, declarations and source maps a server never",
    "# reads (drop the `find` if a dependency reads .d.ts files at run time, as the TypeScript compiler does).",
    `RUN ${INSTALL[pm].production} && ${PRUNE_DEPENDENCIES}`,
  );
  lines.push(options.build ? `COPY --from=build /app/${outDir} ./${outDir}` : "COPY . .");
  lines.push(
    "# The node image's unprivileged `node` user, by number so Kubernetes' runAsNonRoot can verify it.",
    "USER 1000:1000",
    `EXPOSE ${port} ${prometheusPort}`,
  );
  if (options.healthCheck) {
    lines.push(
      `HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ${JSON.stringify(["node", options.healthCheck])}`,
    );
  }
  lines.push(`CMD ${JSON.stringify([SERVE_BINARY, ...args])}`, "");
  return lines.join("\n");
}

/** What {@link inspectProject} found in a project directory. */
export interface ProjectFacts {
  readonly packageManager: PackageManager;
  readonly build: boolean;
  readonly healthCheck?: string;
  readonly localDependencies: readonly string[];
}

interface ProjectPackageJson {
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  packageManager?: string;
}

/**
 * Reads what the Dockerfile depends on from a project directory (the image's build context): its
 * package manager (from the lockfile, or `packageManager` in package.json), whether it has a build
 * script, and a `src/health-check.ts` compiled to `dist/health-check.js`.
 *
 * @throws DeployError when the directory has no package.json or no lockfile, or when a production
 *   dependency is a `file:` path outside the directory (a Docker build cannot see it).
 */
export async function inspectProject(dir: string): Promise<ProjectFacts> {
  const root = resolve(dir);
  let pkg: ProjectPackageJson;
  try {
    pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as ProjectPackageJson;
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "is missing" : "cannot be read";
    throw new DeployError(
      `${join(root, "package.json")} ${why}: pass --dir <agent project> (a directory with package.json)`,
    );
  }
  const declared = /^(npm|pnpm|yarn)@/.exec(pkg.packageManager ?? "")?.[1] as PackageManager | undefined;
  const found = (Object.keys(LOCKFILES) as PackageManager[]).filter((pm) =>
    existsSync(join(root, LOCKFILES[pm])),
  );
  const packageManager = declared ?? found[0];
  if (!packageManager || !found.includes(packageManager)) {
    const wanted = packageManager
      ? LOCKFILES[packageManager]
      : `lockfile (${Object.values(LOCKFILES).join(", ")})`;
    throw new DeployError(
      `${root} has no ${wanted}: install the project once (npm install, pnpm install or yarn) so the image installs exactly those versions`,
    );
  }
  const localDependencies: string[] = [];
  // Dev dependencies too: the build stage installs them (`flyte-agent` is one, and may be a tarball).
  for (const [name, spec] of Object.entries({
    ...pkg.devDependencies,
    ...pkg.dependencies,
    ...pkg.optionalDependencies,
  })) {
    const path = /^(?:file|link):(.*)$/.exec(spec)?.[1];
    if (path === undefined) continue;
    const target = resolve(root, path);
    const rel = relative(root, target);
    if (rel.startsWith("..") || isAbsolute(rel)) {
      throw new DeployError(
        `${name} is a dependency on ${spec}, outside ${root}, which an image build cannot see: copy it into the project (e.g. ${name}.tgz) and depend on file:./${name}.tgz, or depend on a published version`,
      );
    }
    localDependencies.push(rel.split(sep).join("/"));
  }
  const build = typeof pkg.scripts?.build === "string";
  return {
    packageManager,
    build,
    localDependencies,
    ...(build && existsSync(join(root, "src", "health-check.ts"))
      ? { healthCheck: "dist/health-check.js" }
      : {}),
  };
}
