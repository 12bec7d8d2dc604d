// Types of bench/load.mjs, for test/reliability/load.test.ts.
import type { ChildProcess } from "node:child_process";

/** The fixture module the load server serves (relative to the repository root). */
export declare const loadFixture: string;

/** MB of resident memory of a process, from /proc (Linux). */
export declare function rssMb(pid: number): number;

export interface LoadServer {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  /** `127.0.0.1:<port>` */
  readonly address: string;
  /** SIGTERM, then resolves once the process has exited. */
  stop(): Promise<void>;
}

export declare function startLoadServer(options?: {
  readonly serverFlags?: readonly string[];
  readonly timeoutMs?: number;
}): Promise<LoadServer>;

export interface LoadOptions {
  readonly address: string;
  readonly serverPid: number;
  /** @default 10000 */
  readonly asyncTasks?: number;
  /** Rounds of `asyncTasks`, one after the other, to tell a leak from a high-water mark. @default 1 */
  readonly asyncRounds?: number;
  /** @default 1000 */
  readonly syncCalls?: number;
  /** How long each async task stays RUNNING after its create. @default 3000 */
  readonly taskDurationMs?: number;
  /** FlytePropeller's `resyncInterval` (30 s on a cluster), scaled down. @default 1000 */
  readonly resyncIntervalMs?: number;
  /** The shared GetTask rate limiter (10 qps / burst 100 on a cluster). @default 100000 / 10000 */
  readonly qps?: number;
  readonly burst?: number;
  /** CreateTask calls in flight over the async session (FlytePropeller's workers). @default 50 */
  readonly maxConcurrentCalls?: number;
  /** GetTask calls in flight, a pool of its own (FlytePropeller's cache workers). @default 100 */
  readonly maxConcurrentGets?: number;
  /** How long the sync agent takes to answer. @default 5 */
  readonly syncDelayMs?: number;
  /** Deadline of every RPC. @default 30000 */
  readonly rpcTimeoutMs?: number;
  /** Server RSS sampling after the async run. @default 5000 */
  readonly settleMs?: number;
  /** Idle time before the first RSS reading. @default 2000 */
  readonly idleMs?: number;
  /** @default 100 */
  readonly sampleEveryMs?: number;
}

/** One round of async tasks started at once. */
export interface AsyncRoundReport {
  readonly round: number;
  readonly tasks: number;
  readonly succeeded: number;
  readonly wallSeconds: number;
  readonly tasksPerSecond: number;
  readonly getTaskCalls: number;
  readonly getTasksPerSecond: number;
  readonly getTaskP50Ms: number;
  readonly getTaskP99Ms: number;
  readonly getTaskMaxMs: number;
  readonly createTaskCalls: number;
  readonly createTaskP50Ms: number;
  readonly createTaskP99Ms: number;
  /** Calls other than GetTask/CreateTask, by operation (ListAgents, DeleteTask). */
  readonly otherCalls: Record<string, number>;
  /** Failed RPCs by "operation CODE". */
  readonly rpcErrors: Record<string, number>;
  /** Tasks that did not succeed with the expected outputs, by failure code. */
  readonly failedTasks: Record<string, number>;
  readonly failureSamples: readonly string[];
  /** The server's RSS during the round, at its end, and after `settleMs` idle. */
  readonly serverRssMb: { readonly peak: number; readonly atEnd: number; readonly settled: number };
  readonly executorRssPeakMb: number;
  /** CPU seconds each process used during the round. */
  readonly cpuSeconds: { readonly server: number; readonly executor: number };
}

export interface LoadReport {
  readonly options: Required<LoadOptions>;
  readonly rounds: readonly AsyncRoundReport[];
  readonly sync: {
    readonly calls: number;
    readonly succeeded: number;
    readonly wallSeconds: number;
    readonly callsPerSecond: number;
    readonly p50Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
    readonly rpcErrors: Record<string, number>;
    readonly failedCalls: Record<string, number>;
    readonly failureSamples: readonly string[];
  };
  readonly serverRssMb: { readonly idle: number; readonly afterSync: number };
  readonly executorRssMb: { readonly idle: number; readonly peak: number };
  /** CPU seconds of the sync calls (with the settling after the last round). */
  readonly syncCpuSeconds: { readonly server: number; readonly executor: number };
}

/** Runs the async tasks at once, then the sync calls at once, and measures them. */
export declare function runLoad(options: LoadOptions): Promise<LoadReport>;

/** The report as markdown tables. */
export declare function formatLoadReport(report: LoadReport): string;

/**
 * The benchmark as `npm run bench` runs it: parses `argv` (--quick, --async=N, ...), starts the
 * server, prints the figures, and rejects when any task or call failed.
 */
export declare function runLoadBench(argv?: readonly string[]): Promise<LoadReport>;
