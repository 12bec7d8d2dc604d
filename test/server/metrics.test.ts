import { status } from "@grpc/grpc-js";
import { AggregatorRegistry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createCallHooks, ServerMetrics } from "../../packages/runtime/src/server/metrics.js";

/** The value of one exposition line, or undefined when the series is absent. */
function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("ServerMetrics", () => {
  it("hands the calls counted in plain numbers to prom-client at scrape time", async () => {
    const m = new ServerMetrics({ runtime: false });
    m.ended("get", "job", 0.0007, undefined);
    m.ended("get", "job", 0.003, undefined);
    m.ended("get", "job", 42, status.NOT_FOUND);
    m.ended("create", "job", 0.0001, undefined, "flyte2");
    m.inputs("job", 100);
    m.inputs("job", 5000, "flyte2");
    m.rejected("get");
    m.unhandled("unhandledRejection");
    m.countInFlight(() => 3);
    const text = await m.text();
    const get = 'task_type="job",operation="get",protocol="flyte1"';
    expect(value(text, `flyte_agent_requests_success_total{${get}}`)).toBe(2);
    expect(
      value(
        text,
        'flyte_agent_requests_failure_total{task_type="job",operation="get",error_code="NOT_FOUND",protocol="flyte1"}',
      ),
    ).toBe(1);
    // Cumulative buckets, as prom-client's own histogram writes them; 42 s is past every bound.
    expect(value(text, `flyte_agent_request_latency_seconds_bucket{${get},le="0.0005"}`)).toBe(0);
    expect(value(text, `flyte_agent_request_latency_seconds_bucket{${get},le="0.001"}`)).toBe(1);
    expect(value(text, `flyte_agent_request_latency_seconds_bucket{${get},le="0.005"}`)).toBe(2);
    expect(value(text, `flyte_agent_request_latency_seconds_bucket{${get},le="30"}`)).toBe(2);
    expect(value(text, `flyte_agent_request_latency_seconds_bucket{${get},le="+Inf"}`)).toBe(3);
    expect(value(text, `flyte_agent_request_latency_seconds_count{${get}}`)).toBe(3);
    expect(value(text, `flyte_agent_request_latency_seconds_sum{${get}}`)).toBeCloseTo(42.0037, 6);
    expect(
      value(text, 'flyte_agent_requests_success_total{task_type="job",operation="create",protocol="flyte2"}'),
    ).toBe(1);
    expect(value(text, 'flyte_agent_input_literal_bytes_sum{task_type="job",protocol="flyte1"}')).toBe(100);
    expect(
      value(text, 'flyte_agent_input_literal_bytes_bucket{task_type="job",protocol="flyte2",le="4096"}'),
    ).toBe(0);
    expect(
      value(text, 'flyte_agent_input_literal_bytes_bucket{task_type="job",protocol="flyte2",le="16384"}'),
    ).toBe(1);
    expect(value(text, 'flyte_agent_requests_rejected_total{operation="get",protocol="flyte1"}')).toBe(1);
    expect(value(text, 'flyte_agent_unhandled_errors_total{kind="unhandledRejection"}')).toBe(1);
    expect(value(text, "flyte_agent_requests_in_flight")).toBe(3);
    expect(text).toContain("# TYPE flyte_agent_request_latency_seconds histogram");
    expect(text).toContain("# TYPE flyte_agent_requests_success_total counter");
    expect(text).not.toContain("process_resident_memory_bytes");
    expect(m.contentType).toContain("text/plain");
  });

  it("counts calls made after a scrape in the next one", async () => {
    const m = new ServerMetrics({ runtime: false, prefix: "x_" });
    m.ended("do", "echo", 0.01, undefined);
    const series = 'x_requests_success_total{task_type="echo",operation="do",protocol="flyte1"}';
    expect(value(await m.text(), series)).toBe(1);
    m.ended("do", "echo", 0.01, undefined);
    expect(value(await m.text(), series)).toBe(2);
  });

  it("adds the runtime series and metrics registered by the caller to the same registry", async () => {
    const m = new ServerMetrics();
    const { Counter } = await import("prom-client");
    new Counter({ name: "mine_total", help: "mine", registers: [m.registry] }).inc(5);
    const text = await m.text();
    expect(value(text, "mine_total")).toBe(5);
    expect(text).toContain("process_resident_memory_bytes");
    expect(text).toContain("nodejs_eventloop_lag_seconds");
  });

  it("sums every worker's series as --workers' primary does", async () => {
    const workers = [new ServerMetrics({ runtime: false }), new ServerMetrics({ runtime: false })];
    workers[0]!.ended("get", "job", 0.002, undefined);
    workers[1]!.ended("get", "job", 0.02, undefined);
    workers[1]!.ended("get", "job", 0.02, status.INTERNAL);
    workers[0]!.countInFlight(() => 1);
    workers[1]!.countInFlight(() => 2);
    const json = await Promise.all(workers.map((w) => w.registry.getMetricsAsJSON()));
    const text = await AggregatorRegistry.aggregate(json).metrics();
    const get = 'task_type="job",operation="get",protocol="flyte1"';
    expect(value(text, `flyte_agent_requests_success_total{${get}}`)).toBe(2);
    expect(value(text, `flyte_agent_request_latency_seconds_bucket{${get},le="0.0025"}`)).toBe(1);
    expect(value(text, `flyte_agent_request_latency_seconds_bucket{${get},le="0.025"}`)).toBe(3);
    expect(value(text, `flyte_agent_request_latency_seconds_count{${get}}`)).toBe(3);
    expect(value(text, "flyte_agent_requests_in_flight")).toBe(3);
  });
});

describe("createCallHooks", () => {
  it("refuses calls beyond maxConcurrent and records through the metrics", async () => {
    const m = new ServerMetrics({ runtime: false });
    const hooks = createCallHooks({ metrics: m, maxConcurrent: 2 });
    expect(hooks.onStart?.("get", "job", 1, "flyte1")).toBe(true);
    expect(hooks.onStart?.("get", "job", 2, "flyte1")).toBe(false);
    hooks.onRejected?.("get", "job", "flyte2");
    hooks.onEnd?.("get", "job", 0.001, undefined, "flyte2");
    hooks.onInputs?.("job", 10, "flyte1");
    const text = await m.text();
    expect(value(text, 'flyte_agent_requests_rejected_total{operation="get",protocol="flyte2"}')).toBe(1);
    expect(
      value(text, 'flyte_agent_requests_success_total{task_type="job",operation="get",protocol="flyte2"}'),
    ).toBe(1);
    expect(value(text, 'flyte_agent_input_literal_bytes_count{task_type="job",protocol="flyte1"}')).toBe(1);
  });
});
