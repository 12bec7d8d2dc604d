// Shared parts of the fault suite: the real `flyte-agent serve agent` serving the fault agents, a gate
// server that agents wait on, and a health client.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { credentials, makeGenericClientConstructor, type ServiceError } from "@grpc/grpc-js";
import { HealthService } from "../../packages/runtime/src/server/health.js";

import { type ServeProcess, startServeProcess } from "../support/serve-process.js";

export { bin, root, type LogLine, type ServeProcess } from "../support/serve-process.js";
export const faultAgents = "test/reliability/fixtures/fault-agents.ts";

/**
 * Starts the built binary serving the fault agents on a free loopback port (or `port`) and resolves
 * once it logs that it listens. Metrics are on (on a free port) unless `--no-prometheus` is passed.
 */
export function startServe(extra: readonly string[] = [], port = 0): Promise<ServeProcess> {
  return startServeProcess([
    "agent",
    "--port",
    String(port),
    "--host",
    "127.0.0.1",
    "-m",
    faultAgents,
    "--no-discover",
    "--no-banner",
    ...(extra.includes("--no-prometheus") ? [] : ["--prometheus-port", "0"]),
    ...extra,
  ]);
}

/** Reads one series' value from the process's `/metrics` (undefined when absent). */
export async function metric(p: ServeProcess, series: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${String(p.metricsPort)}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/**
 * A loopback HTTP server the fixture agents call before answering (`gate` / `gate-ignore` modes and
 * the sync agent): a request arriving is the "call started" event, and the call finishes only when
 * the test releases it.
 */
export async function startGate() {
  const held = new Map<string, ServerResponse>();
  const arrivals: string[] = [];
  let waiters: { n: number; resolve: () => void }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const id = (req.url ?? "/").slice(1);
    held.set(id, res);
    arrivals.push(id);
    const ready = waiters.filter((w) => arrivals.length >= w.n);
    waiters = waiters.filter((w) => arrivals.length < w.n);
    for (const w of ready) w.resolve();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (id: string) => `http://127.0.0.1:${port}/${id}`,
    arrivals,
    /** Resolves once `n` calls have reached the gate. */
    arrived: (n: number) =>
      new Promise<void>((resolve) => {
        if (arrivals.length >= n) resolve();
        else waiters.push({ n, resolve });
      }),
    releaseAll(): void {
      for (const res of held.values()) res.end("released");
      held.clear();
    },
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The serving status of `""` through grpc.health.v1 Check (throws the ServiceError on failure). */
export function healthCheck(address: string, deadlineMs = 3000): Promise<number> {
  const Health = makeGenericClientConstructor(HealthService, "Health");
  const client = new Health(address, credentials.createInsecure()) as unknown as {
    check(req: Buffer, opts: { deadline: number }, cb: (e: ServiceError | null, r: Buffer) => void): void;
    close(): void;
  };
  return new Promise<number>((resolve, reject) =>
    client.check(Buffer.alloc(0), { deadline: Date.now() + deadlineMs }, (e, r) => {
      client.close();
      if (e) reject(e);
      else resolve(r[1] ?? 0);
    }),
  );
}

/** Opens a grpc.health.v1 Watch on `""` and collects the statuses it streams. */
export function healthWatch(address: string) {
  const Health = makeGenericClientConstructor(HealthService, "Health");
  const client = new Health(address, credentials.createInsecure()) as unknown as {
    watch(req: Buffer): NodeJS.EventEmitter;
    close(): void;
  };
  const statuses: number[] = [];
  const waiters: { status: number; resolve: () => void }[] = [];
  const stream = client.watch(Buffer.alloc(0));
  stream.on("data", (b: Buffer) => {
    const s = b[1] ?? 0;
    statuses.push(s);
    for (const w of waiters.filter((x) => x.status === s)) w.resolve();
  });
  stream.on("error", () => {});
  return {
    statuses,
    /** Resolves once the watch has streamed `status`. */
    saw: (status: number) =>
      new Promise<void>((resolve) => {
        if (statuses.includes(status)) resolve();
        else waiters.push({ status, resolve });
      }),
    close: () => client.close(),
  };
}
