import type { status } from "@grpc/grpc-js";
import type * as PromClient from "prom-client";
import type { Counter, Histogram, Registry } from "prom-client";
import { status as grpcStatus } from "@grpc/grpc-js";
import type { Operation } from "./errors.js";
import type { Protocol } from "./call-scope.js";
import { type MetricsEndpoint, startMetricsHttpEndpoint } from "./metrics-endpoint.js";

export type { MetricsEndpoint } from "./metrics-endpoint.js";
import type { CallHooks } from "./call-pipeline.js";

/** Options of {@link createServerMetrics}. */
export interface ServerMetricsOptions {
  /** Prefix of the series, flytekit's by default. @default "flyte_agent_" */
  readonly prefix?: string;
  /** Also collect process and Node.js runtime metrics (CPU, memory, event-loop lag, GC). @default true */
  readonly runtime?: boolean;
}

/** Options of {@link createCallHooks}. */
export interface CallHooksOptions {
  /** Record calls in these metrics. */
  readonly metrics?: ServerMetrics;
  /** Refuse calls beyond this many in flight with RESOURCE_EXHAUSTED; 0 means no limit. @default 0 */
  readonly maxConcurrent?: number;
}

interface LabelledSeries {
  readonly success: Counter.Internal;
  readonly latency: Histogram.Internal<string>;
}

/**
 * The agent server's Prometheus metrics: flytekit's series and labels
 * (`requests_success_total{task_type,operation}`, `requests_failure_total{task_type,operation,error_code}`,
 * `request_latency_seconds{task_type,operation}` — a histogram here, a summary in flytekit —,
 * `input_literal_bytes{task_type}`), plus `requests_in_flight`, `requests_rejected_total{operation}`
 * and the process/runtime series (`process_*`, `nodejs_eventloop_lag_*`). The request series also
 * carry `protocol` ("flyte1" for `flyteidl.service`, "flyte2" for `flyteidl2.connector`).
 */
export class ServerMetrics {
  readonly #success: Counter;
  readonly #failure: Counter;
  readonly #latency: Histogram;
  readonly #inputBytes: Histogram;
  readonly #rejected: Counter;
  // Label lookups hash their arguments on every call; children are cached per (operation, task type).
  readonly #series = new Map<string, LabelledSeries>();
  #inFlight: () => number = () => 0;

  constructor(
    /** The prom-client registry holding every series. */
    readonly registry: Registry,
    prom: typeof PromClient,
    prefix: string,
  ) {
    const registers = [registry];
    this.#success = new prom.Counter({
      name: `${prefix}requests_success_total`,
      help: "Agent calls that succeeded",
      labelNames: ["task_type", "operation", "protocol"],
      registers,
    });
    this.#failure = new prom.Counter({
      name: `${prefix}requests_failure_total`,
      help: "Agent calls that failed, by gRPC status name",
      labelNames: ["task_type", "operation", "error_code", "protocol"],
      registers,
    });
    this.#latency = new prom.Histogram({
      name: `${prefix}request_latency_seconds`,
      help: "Time to answer an agent call",
      labelNames: ["task_type", "operation", "protocol"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#inputBytes = new prom.Histogram({
      name: `${prefix}input_literal_bytes`,
      help: "Size of the input literals of create and do calls",
      labelNames: ["task_type"],
      buckets: [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304],
      registers,
    });
    this.#rejected = new prom.Counter({
      name: `${prefix}requests_rejected_total`,
      help: "Calls refused with RESOURCE_EXHAUSTED because --max-concurrent calls were in flight",
      labelNames: ["operation", "protocol"],
      registers,
    });
    const inFlight = (): number => this.#inFlight();
    new prom.Gauge({
      name: `${prefix}requests_in_flight`,
      help: "Agent calls being answered",
      registers,
      collect() {
        this.set(inFlight());
      },
    });
  }

  /** Agent calls being answered now. */
  get inFlight(): number {
    return this.#inFlight();
  }

  /**
   * Reads `requests_in_flight` from the server's own count (`AgentServer.inFlight`) at scrape time,
   * so one counter serves the drain, the concurrency limit and the gauge.
   */
  countInFlight(source: () => number): void {
    this.#inFlight = source;
  }

  /** @internal */
  ended(
    op: Operation,
    taskType: string,
    seconds: number,
    code: status | undefined,
    protocol: Protocol = "flyte1",
  ): void {
    const key = `${op}\u0000${taskType}\u0000${protocol}`;
    let series = this.#series.get(key);
    if (!series) {
      series = {
        success: this.#success.labels(taskType, op, protocol),
        latency: this.#latency.labels(taskType, op, protocol),
      };
      this.#series.set(key, series);
    }
    series.latency.observe(seconds);
    if (code === undefined) series.success.inc();
    else this.#failure.labels(taskType, op, grpcStatus[code] ?? String(code), protocol).inc();
  }

  /** @internal */
  rejected(op: Operation, _taskType?: string, protocol: Protocol = "flyte1"): void {
    this.#rejected.labels(op, protocol).inc();
  }

  /** @internal */
  inputs(taskType: string, bytes: number): void {
    this.#inputBytes.labels(taskType).observe(bytes);
  }

  /** The exposition text (`/metrics`). */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Builds the metrics in a registry of their own (prom-client is loaded here, not at import). */
export async function createServerMetrics(options: ServerMetricsOptions = {}): Promise<ServerMetrics> {
  const prom = await import("prom-client");
  const registry = new prom.Registry();
  if (options.runtime ?? true) prom.collectDefaultMetrics({ register: registry });
  return new ServerMetrics(registry, prom, options.prefix ?? "flyte_agent_");
}

/**
 * Hooks that count calls in metrics and enforce a concurrency limit: once `maxConcurrent` calls are
 * in flight, new ones are refused with RESOURCE_EXHAUSTED (FlytePropeller retries them) instead of
 * queueing until the process runs out of memory.
 */
export function createCallHooks(options: CallHooksOptions): CallHooks {
  const { metrics } = options;
  const max = options.maxConcurrent ?? 0;
  return {
    onStart: (_op, _taskType, inFlight) => max <= 0 || inFlight < max,
    ...(metrics ? { onEnd: metrics.ended.bind(metrics) } : {}),
    ...(metrics
      ? { onRejected: metrics.rejected.bind(metrics), onInputs: metrics.inputs.bind(metrics) }
      : {}),
  };
}

/** Serves `GET /metrics` (and `/` for convenience) in Prometheus' text format. */
export function startMetricsEndpoint(
  metrics: ServerMetrics,
  host: string,
  port: number,
): Promise<MetricsEndpoint> {
  return startMetricsHttpEndpoint(
    async () => ({ text: await metrics.text(), contentType: metrics.registry.contentType }),
    host,
    port,
  );
}
