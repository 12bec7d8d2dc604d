import { createRequire } from "node:module";
import type * as PromClient from "prom-client";
import type { Registry } from "prom-client";
import { status } from "@grpc/grpc-js";
import type { Protocol } from "./call-scope.js";
import type { Operation } from "./errors.js";
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

/** The protocol label of a call whose service names none. */
export const DEFAULT_PROTOCOL: Protocol = "flyte1";

const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const inputBuckets = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304];

/** One histogram series as plain numbers: per-bucket (not cumulative) counts, sum and count. */
class Histo {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }
  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    if (i < bounds.length) this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** The series of one (protocol, operation, task type). */
class CallSeries {
  success = 0;
  /** Failures by gRPC status name. */
  readonly failures = new Map<string, number>();
  readonly latency = new Histo(latencyBuckets);
}

type Labels = Record<string, string>;
interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}
type MetricType = "counter" | "gauge" | "histogram";

/** Nested maps, so a lookup per call allocates no key. */
function nested<K1, K2, V>(outer: Map<K1, Map<K2, V>>, k1: K1, k2: K2, make: () => V): V {
  let inner = outer.get(k1);
  if (!inner) outer.set(k1, (inner = new Map()));
  let value = inner.get(k2);
  if (!value) inner.set(k2, (value = make()));
  return value;
}

function histogramSamples(name: string, labels: Labels, h: Histo, out: Sample[]): void {
  let cumulative = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    cumulative += h.counts[i]!;
    out.push({
      labels: { ...labels, le: String(h.bounds[i]) },
      value: cumulative,
      metricName: `${name}_bucket`,
    });
  }
  out.push({ labels: { ...labels, le: "+Inf" }, value: h.count, metricName: `${name}_bucket` });
  out.push({ labels, value: h.sum, metricName: `${name}_sum` });
  out.push({ labels, value: h.count, metricName: `${name}_count` });
}

/**
 * The agent server's Prometheus metrics: flytekit's series and labels
 * (`requests_success_total{task_type,operation}`, `requests_failure_total{task_type,operation,error_code}`,
 * `request_latency_seconds{task_type,operation}` — a histogram here, a summary in flytekit —,
 * `input_literal_bytes{task_type}`), plus `requests_in_flight`, `requests_rejected_total{operation}`,
 * `unhandled_errors_total{kind}` and the process/runtime series (`process_*`, `nodejs_*`). The
 * request series also carry `protocol` ("flyte1" for `flyteidl.service`, "flyte2" for Flyte 2's
 * connector service).
 *
 * Calls are counted in plain numbers on the hot path and handed to prom-client when it collects
 * (a prom-client label lookup validates and hashes its labels on every update). prom-client itself
 * is loaded, and the runtime series start, on first use of {@link ServerMetrics.registry}: at the
 * first scrape, unless a caller asks for the registry sooner.
 */
export class ServerMetrics {
  readonly #prefix: string;
  readonly #runtime: boolean;
  readonly #calls = new Map<Protocol, Map<Operation, Map<string, CallSeries>>>();
  readonly #inputs = new Map<Protocol, Map<string, Histo>>();
  readonly #rejected = new Map<Protocol, Map<Operation, number>>();
  readonly #unhandled = new Map<string, number>();
  #inFlight: () => number = () => 0;
  #registry: Registry | undefined;

  constructor(options: ServerMetricsOptions = {}) {
    this.#prefix = options.prefix ?? "flyte_agent_";
    this.#runtime = options.runtime ?? true;
  }

  /**
   * The prom-client registry holding every series; register your own metrics here to have them on
   * `/metrics`. Made (and prom-client loaded) on first use.
   */
  get registry(): Registry {
    return (this.#registry ??= this.#makeRegistry());
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

  /** @internal One call ended; `code` is its gRPC status (undefined for OK). */
  ended(
    op: Operation,
    taskType: string,
    seconds: number,
    code: status | undefined,
    protocol: Protocol = DEFAULT_PROTOCOL,
  ): void {
    const byOp = nested(this.#calls, protocol, op, () => new Map<string, CallSeries>());
    let series = byOp.get(taskType);
    if (!series) byOp.set(taskType, (series = new CallSeries()));
    series.latency.observe(seconds);
    if (code === undefined) series.success++;
    else {
      const name = status[code] ?? String(code);
      series.failures.set(name, (series.failures.get(name) ?? 0) + 1);
    }
  }

  /** @internal A call refused by the concurrency limit. */
  rejected(op: Operation, _taskType?: string, protocol: Protocol = DEFAULT_PROTOCOL): void {
    const byOp = this.#rejected.get(protocol) ?? new Map<Operation, number>();
    this.#rejected.set(protocol, byOp);
    byOp.set(op, (byOp.get(op) ?? 0) + 1);
  }

  /** @internal The encoded size of a call's task inputs. */
  inputs(taskType: string, bytes: number, protocol: Protocol = DEFAULT_PROTOCOL): void {
    nested(this.#inputs, protocol, taskType, () => new Histo(inputBuckets)).observe(bytes);
  }

  /** @internal An error no agent code caught (`unhandledRejection`, `uncaughtException`). */
  unhandled(kind: string): void {
    this.#unhandled.set(kind, (this.#unhandled.get(kind) ?? 0) + 1);
  }

  /** The exposition text (`/metrics`). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of {@link ServerMetrics.text}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  #makeRegistry(): Registry {
    // Synchronous, so `registry` can stay a property; prom-client is CommonJS.
    const prom = createRequire(import.meta.url)("prom-client") as typeof PromClient;
    const registry = new prom.Registry();
    if (this.#runtime) prom.collectDefaultMetrics({ register: registry });
    const p = this.#prefix;
    const add = (name: string, help: string, type: MetricType, samples: () => Sample[]): void => {
      const get = () => Promise.resolve({ name, help, type, aggregator: "sum" as const, values: samples() });
      // A prom-client metric is anything with these members: the registry formats what `get` gives,
      // and `--workers`' aggregation sums it like any counter, gauge or histogram.
      const metric = { name, help, type, aggregator: "sum", get, reset: () => {} };
      registry.registerMetric(metric as unknown as PromClient.Metric);
    };
    add(`${p}requests_success_total`, "Agent calls that succeeded", "counter", () =>
      this.#eachCall((labels, s, out) => {
        if (s.success > 0) out.push({ labels, value: s.success });
      }),
    );
    add(`${p}requests_failure_total`, "Agent calls that failed, by gRPC status name", "counter", () =>
      this.#eachCall((labels, s, out) => {
        for (const [code, value] of s.failures) {
          out.push({
            labels: {
              task_type: labels.task_type!,
              operation: labels.operation!,
              error_code: code,
              protocol: labels.protocol!,
            },
            value,
          });
        }
      }),
    );
    add(`${p}request_latency_seconds`, "Time to answer an agent call", "histogram", () =>
      this.#eachCall((labels, s, out) =>
        histogramSamples(`${p}request_latency_seconds`, labels, s.latency, out),
      ),
    );
    add(`${p}input_literal_bytes`, "Size of the input literals of create and do calls", "histogram", () => {
      const out: Sample[] = [];
      for (const [protocol, byType] of this.#inputs) {
        for (const [taskType, h] of byType) {
          histogramSamples(`${p}input_literal_bytes`, { task_type: taskType, protocol }, h, out);
        }
      }
      return out;
    });
    add(
      `${p}requests_rejected_total`,
      "Calls refused with RESOURCE_EXHAUSTED because --max-concurrent calls were in flight",
      "counter",
      () => {
        const out: Sample[] = [];
        for (const [protocol, byOp] of this.#rejected) {
          for (const [op, value] of byOp) out.push({ labels: { operation: op, protocol }, value });
        }
        return out;
      },
    );
    add(`${p}requests_in_flight`, "Agent calls being answered", "gauge", () => [
      { labels: {}, value: this.#inFlight() },
    ]);
    add(
      "flyte_agent_unhandled_errors_total",
      "Errors no agent code caught: unhandledRejection (serving goes on) and uncaughtException (the server drains and exits)",
      "counter",
      () => [...this.#unhandled].map(([kind, value]) => ({ labels: { kind }, value })),
    );
    return registry;
  }

  #eachCall(fn: (labels: Labels, series: CallSeries, out: Sample[]) => void): Sample[] {
    const out: Sample[] = [];
    for (const [protocol, byOp] of this.#calls) {
      for (const [op, byType] of byOp) {
        for (const [taskType, series] of byType) {
          fn({ task_type: taskType, operation: op, protocol }, series, out);
        }
      }
    }
    return out;
  }
}

/** Builds the server's metrics (prom-client is loaded on the first scrape, not here). */
export function createServerMetrics(options: ServerMetricsOptions = {}): Promise<ServerMetrics> {
  return Promise.resolve(new ServerMetrics(options));
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
    ...(metrics
      ? {
          onEnd: metrics.ended.bind(metrics),
          onRejected: metrics.rejected.bind(metrics),
          onInputs: metrics.inputs.bind(metrics),
        }
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
    async () => ({ text: await metrics.text(), contentType: metrics.contentType }),
    host,
    port,
  );
}
