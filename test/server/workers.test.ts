// `flyte-agent serve agent --workers N`: the real binary, worker processes sharing one port.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  type ChannelCredentials,
  type ClientReadableStream,
  credentials,
  makeGenericClientConstructor,
} from "@grpc/grpc-js";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  GetTaskResponse,
  ListAgentsResponse,
} from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";
import {
  AgentMetadataServiceClient,
  AsyncAgentServiceClient,
} from "../../packages/runtime/src/gen/flyteidl/service/agent.js";
import { TaskExecutionPhase } from "../../packages/runtime/src/index.js";
import { HealthService, ServingStatus } from "../../packages/runtime/src/server/health.js";
import { type LogLine, type ServeProcess, bin, root, startServeProcess } from "../support/serve-process.js";
import { unary } from "./helpers.js";

const fixture = "test/server/fixtures/agents.ts";
const local = [
  "agent",
  "--workers",
  "2",
  "--port",
  "0",
  "--host",
  "127.0.0.1",
  "-m",
  fixture,
  "--no-discover",
];
// Each client gets its own connection (grpc-js shares connections between clients by default), so
// that the primary's round-robin hands consecutive clients to different workers.
const ownConnection = { "grpc.use_local_subchannel_pool": 1 };

function asyncClient(address: string, creds: ChannelCredentials = credentials.createInsecure()) {
  return new AsyncAgentServiceClient(address, creds, ownConnection);
}

/** A GetTask whose agent logs "slow get started" (with its worker) and answers after `delayMs`. */
function slowGet(client: AsyncAgentServiceClient, id: string, delayMs: number): Promise<GetTaskResponse> {
  return unary(client.getTask.bind(client), {
    taskType: "job",
    resourceMeta: Buffer.from(JSON.stringify({ job_id: id, delay_ms: delayMs })),
    taskCategory: undefined,
    outputPrefix: "",
  });
}

const started = (cli: ServeProcess, n: number) => cli.logged("slow get started", n);
const workerLines = (cli: ServeProcess, msg: string) =>
  cli.lines.filter((l) => l.msg === msg && "worker" in l);

describe("flyte-agent serve agent --workers 2 (the real binary)", () => {
  it("serves from both workers on one port, sums their metrics, and drains both on SIGTERM", async () => {
    const cli = await startServeProcess([...local, "--prometheus-port", "0"]);
    const clients = [asyncClient(cli.address), asyncClient(cli.address)];
    try {
      const listening = workerLines(cli, "worker listening");
      expect(listening.map((l) => l.worker).sort()).toEqual([1, 2]);
      expect(listening.map((l) => l.port)).toEqual([cli.port, cli.port]);
      expect(new Set(listening.map((l) => l.pid)).size).toBe(2);

      // One call per connection: the two connections land on the two workers.
      expect((await slowGet(clients[0]!, "a", 0)).resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
      expect((await slowGet(clients[1]!, "b", 0)).resource?.phase).toBe(TaskExecutionPhase.SUCCEEDED);
      const first = [await started(cli, 1), await started(cli, 2)];
      expect(first.map((l) => l.worker).sort()).toEqual([1, 2]);
      expect(first[0]!.pid).not.toBe(first[1]!.pid);

      // Each worker answered one get; the one /metrics shows both.
      const metrics = await (await fetch(`http://127.0.0.1:${cli.metricsPort}/metrics`)).text();
      expect(metrics).toContain(
        'flyte_agent_requests_success_total{task_type="job",operation="get",protocol="flyte1"} 2',
      );

      // A call in flight on each worker, then SIGTERM to the primary.
      const inFlight = [slowGet(clients[0]!, "c", 3000), slowGet(clients[1]!, "d", 3000)];
      const second = [await started(cli, 3), await started(cli, 4)];
      expect(second.map((l) => l.worker).sort()).toEqual([1, 2]);
      cli.child.kill("SIGTERM");
      const answers = await Promise.all(inFlight);
      expect(answers.map((a) => a.resource?.phase)).toEqual([
        TaskExecutionPhase.SUCCEEDED,
        TaskExecutionPhase.SUCCEEDED,
      ]);
      const result = await cli.child;
      expect(result.exitCode).toBe(0);
      const draining = workerLines(cli, "draining");
      expect(draining.map((l) => [l.worker, l.in_flight]).sort()).toEqual([
        [1, 1],
        [2, 1],
      ]);
      expect(cli.lines.at(-1)).toMatchObject({ msg: "agent server stopped" });
      expect(cli.lines.at(-1)).not.toHaveProperty("worker");
      // One banner, the primary's.
      expect(result.stderr.match(/serving on/g)).toHaveLength(1);
      expect(result.stderr).toContain(`serving on 127.0.0.1:${cli.port} (plaintext), metrics on :`);
      expect(result.stderr).toContain("2 workers");
    } finally {
      for (const c of clients) c.close();
      cli.child.kill("SIGKILL");
    }
  });

  it("reports NOT_SERVING from a listening worker until every worker listens, and again once draining", async () => {
    const cli = await startServeProcess(
      [...local, "--no-prometheus", "-m", "test/server/fixtures/gated-start.ts"],
      {
        env: { GATE_WORKER: "2" },
        ready: "worker listening",
      },
    );
    const Health = makeGenericClientConstructor(HealthService, "Health");
    const health = new Health(cli.address, credentials.createInsecure()) as InstanceType<typeof Health> & {
      watch(request: Buffer): ClientReadableStream<Buffer>;
    };
    try {
      const gate = await cli.logged("gate waiting");
      // Only worker 1 listens, so this connection is worker 1's.
      const watch = health.watch(Buffer.alloc(0));
      const statuses: number[] = [];
      let sawSecond!: () => void;
      const second = new Promise<void>((resolve) => (sawSecond = resolve));
      const ended = new Promise<void>((resolve, reject) => {
        watch.on("data", (b: Buffer) => {
          statuses.push(b[1] ?? ServingStatus.UNKNOWN);
          // The first answer is in: let the second worker finish starting.
          if (statuses.length === 1) process.kill(gate.pid as number, "SIGUSR2");
          if (statuses.length === 2) sawSecond();
        });
        watch.on("end", () => resolve());
        watch.on("error", (e) => {
          console.error("WATCHERR", statuses, JSON.stringify(cli.lines.map((l) => [l.msg, l.worker])));
          reject(e);
        });
      });
      await cli.logged("agent server listening");
      await second;
      cli.child.kill("SIGTERM");
      await ended;
      expect(statuses).toEqual([ServingStatus.NOT_SERVING, ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
      expect((await cli.child).exitCode).toBe(0);
    } finally {
      health.close();
      cli.child.kill("SIGKILL");
    }
  });

  it("drains a worker still starting when SIGTERM comes during start-up, and exits 0", async () => {
    const cli = await startServeProcess(
      [...local, "--no-prometheus", "-m", "test/server/fixtures/gated-start.ts"],
      {
        env: { GATE_WORKER: "2" },
        ready: "worker listening",
      },
    );
    try {
      const gate = await cli.logged("gate waiting");
      cli.child.kill("SIGTERM");
      await cli.logged("draining");
      process.kill(gate.pid as number, "SIGUSR2");
      const result = await cli.child;
      expect(result.exitCode).toBe(0);
      expect(
        workerLines(cli, "worker stopped")
          .map((l) => l.worker)
          .sort(),
      ).toEqual([1, 2]);
      expect(cli.count("agent server listening")).toBe(0);
      expect(result.stderr).not.toContain("serving on");
    } finally {
      cli.child.kill("SIGKILL");
    }
  });

  it("reports a worker's start-up error once and exits 2", async () => {
    const result = await execa(
      "node",
      [bin, "serve", ...local, "--no-prometheus", "-m", "no-such-agent.js"],
      {
        cwd: root,
        reject: false,
      },
    );
    expect(result.exitCode).toBe(2);
    expect(result.stderr.match(/^error: .*$/gm)).toEqual([
      `error: agent module no-such-agent.js not found (looked at ${path.join(root, "no-such-agent.js")})`,
    ]);
  });
});

const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasOpenssl)("flyte-agent serve agent --workers 2 over TLS", () => {
  let dir: string;
  const file = (name: string) => path.join(dir, name);
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "flyte-agent-workers-tls-"));
    // Dialled by name: Node warns (DEP0123) when TLS is given an IP address as the server name.
    writeFileSync(file("server.ext"), "subjectAltName=DNS:localhost\n");
    const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    openssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=ca",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
    );
    openssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=server",
      "-keyout",
      "server.key",
      "-out",
      "server.csr",
    );
    openssl(
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-out",
      "server.pem",
      "-extfile",
      "server.ext",
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("starts a killed worker again while the other keeps serving", async () => {
    const cli = await startServeProcess([
      ...local,
      "--no-prometheus",
      "--tls-cert",
      file("server.pem"),
      "--tls-key",
      file("server.key"),
    ]);
    const tls = credentials.createSsl(readFileSync(file("ca.pem")));
    const address = cli.address.replace("127.0.0.1", "localhost");
    const opened: { close(): void }[] = [];
    const open = () => {
      const c = asyncClient(address, tls);
      opened.push(c);
      return c;
    };
    try {
      const meta = new AgentMetadataServiceClient(address, tls, ownConnection);
      opened.push(meta);
      const agents: ListAgentsResponse = await unary(meta.listAgents.bind(meta), {});
      expect(agents.agents.map((a) => a.name)).toContain("JobAgent");

      const victim = workerLines(cli, "worker listening").find((l) => l.worker === 1)!;
      process.kill(victim.pid as number, "SIGKILL");
      const exited = await cli.logged("worker exited: starting another");
      expect(exited).toMatchObject({
        worker: 1,
        worker_pid: victim.pid,
        signal: "SIGKILL",
        restart_in_ms: 250,
      });

      // While worker 1 is down, a new connection is worker 2's.
      await slowGet(open(), "during", 0);
      expect(await started(cli, 1)).toMatchObject({ worker: 2 });

      const replaced: LogLine = await cli.logged("worker listening", 3);
      expect(replaced).toMatchObject({ worker: 1, port: cli.port });
      expect(replaced.pid).not.toBe(victim.pid);
      // Two new connections: one of them is the new worker's, and it serves TLS as well.
      await slowGet(open(), "after-1", 0);
      await slowGet(open(), "after-2", 0);
      const after = [await started(cli, 2), await started(cli, 3)];
      expect(after.map((l) => l.pid)).toContain(replaced.pid);

      cli.child.kill("SIGTERM");
      expect((await cli.child).exitCode).toBe(0);
    } finally {
      for (const c of opened) c.close();
      cli.child.kill("SIGKILL");
    }
  });
});
