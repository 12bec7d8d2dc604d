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
  /** Run `npm run build` after installing (for TypeScript projects that compile to `dist/`). @default false */
  readonly build?: boolean;
}

/** Where the image installs the CLI; the Deployment runs the same path. */
export const SERVE_BINARY = "/app/node_modules/.bin/flyte-agent";

/** The arguments of `flyte-agent serve agent` that a container runs; shared by the Dockerfile and the Deployment. */
export function serveArgs(options: {
  readonly port: number;
  readonly prometheusPort: number;
  readonly gracePeriodSeconds: number;
  readonly taskTypes: readonly string[];
  readonly modules: readonly string[];
}): string[] {
  const args = [
    "serve",
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
 * Renders a Dockerfile for an agent project: a slim Node base, production dependencies only
 * (`npm ci --omit=dev`), a non-root user, and `flyte-agent serve agent` on port 8000 with metrics on
 * 9090. The project directory is the build context and must hold `package.json` and
 * `package-lock.json` with `flyte-agent` as a dependency.
 */
export function renderDockerfile(options: DockerfileOptions = {}): string {
  const port = options.port ?? 8000;
  const prometheusPort = options.prometheusPort ?? 9090;
  const args = serveArgs({
    port,
    prometheusPort,
    gracePeriodSeconds: options.gracePeriodSeconds ?? 30,
    taskTypes: options.taskTypes ?? [],
    modules: options.modules ?? [],
  });
  const cmd = JSON.stringify([SERVE_BINARY, ...args]);
  const lines = [
    "# syntax=docker/dockerfile:1",
    `FROM ${options.baseImage ?? "node:22-slim"}`,
    "ENV NODE_ENV=production",
    "WORKDIR /app",
    "# Dependencies first, so source edits do not reinstall them.",
    "COPY package.json package-lock.json ./",
  ];
  if (options.build) {
    // A TypeScript project needs its dev dependencies to compile, then drops them.
    lines.push("RUN npm ci --include=dev", "COPY . .", "RUN npm run build && npm prune --omit=dev");
  } else {
    lines.push("RUN npm ci --omit=dev && npm cache clean --force", "COPY . .");
  }
  lines.push(
    "# The node image ships an unprivileged `node` user (uid 1000); the Deployment runs as that uid.",
    "USER 1000:1000",
    `EXPOSE ${port} ${prometheusPort}`,
    `CMD ${cmd}`,
    "",
  );
  return lines.join("\n");
}
