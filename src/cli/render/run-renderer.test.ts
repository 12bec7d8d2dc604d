import { describe, expect, it } from "vitest";
import type { ExecutionEvent, ExecutionResult } from "../../executor/index.js";
import { createRunRenderer, type RenderTarget } from "./run-renderer.js";

/** A terminal stand-in: the TTY flag forced on, and what a terminal would finally show. */
function terminal(columns: number): RenderTarget & { raw: string; screen(): string[] } {
  const t = {
    isTTY: true,
    columns,
    raw: "",
    write(text: string) {
      t.raw += text;
      return true;
    },
    /** Lines as displayed: `\r\x1b[2K` clears the current line. */
    screen(): string[] {
      const lines: string[] = [""];
      const clear = "\r\u001b[2K";
      for (const part of t.raw.split(new RegExp(`(${clear.replace("[", "\\[")}|\n)`))) {
        if (part === "\r\x1b[2K") lines[lines.length - 1] = "";
        else if (part === "\n") lines.push("");
        else lines[lines.length - 1] += part;
      }
      return lines;
    },
  };
  return t;
}

const base = { elapsedMs: 0 };
const started: ExecutionEvent = {
  ...base,
  type: "started",
  executionId: "x",
  task: "q",
  taskType: "warehouse_query",
  taskTypeVersion: 0,
  endpoint: "127.0.0.1:5000",
  deployment: "endpoint",
  sync: false,
  via: "discovery",
};
const phase = (p: string, elapsedMs: number, message = ""): ExecutionEvent => ({
  type: "phase",
  elapsedMs,
  attempt: 0,
  phase: p,
  message,
  logLinks: [{ name: "Job log", uri: "file:///tmp/job.log" }],
  customInfo: { rows: 10 },
});
const done = {
  succeeded: true,
  durationMs: 1200,
  attempts: 1,
  outputs: { n: 1 },
} as unknown as ExecutionResult;

describe("the run renderer on a terminal", () => {
  it("keeps the phase history, prints log links and info once, and speaks plainly", () => {
    const out = terminal(80);
    const r = createRunRenderer({ out, err: out, color: false });
    r.onEvent(started);
    r.onEvent(phase("QUEUED", 100));
    r.onEvent(phase("RUNNING", 400));
    r.onEvent(phase("RUNNING", 800));
    r.finish(done);
    const screen = out.screen().join("\n");
    expect(screen).toMatch(/^running q \(task type warehouse_query, async\) on 127\.0\.0\.1:5000$/m);
    expect(screen).not.toMatch(/via|\[endpoint/);
    expect(screen).toMatch(/^✓ QUEUED 0\.4s$/m);
    expect(screen).toMatch(/^SUCCEEDED in 1\.2s/m);
    expect(screen.match(/log: Job log/g)).toHaveLength(1);
    expect(screen.match(/info: \{"rows":10\}/g)).toHaveLength(1);
  });

  it("never draws a live line wider than the terminal", () => {
    const out = terminal(30);
    const r = createRunRenderer({ out, err: out, color: false });
    r.onEvent(phase("RUNNING", 100, "a very long message from the agent about the state of its job"));
    const drawn = out.raw.split("\r\x1b[2K").filter((s) => s.startsWith("RUNNING"));
    expect(drawn.length).toBeGreaterThan(0);
    for (const line of drawn) expect([...line].length).toBeLessThan(30);
    r.finish(done);
  });

  it("colours phases when colour is on", () => {
    const out = terminal(80);
    const r = createRunRenderer({ out, err: out, color: true });
    r.finish(done);
    expect(out.raw).toContain("\x1b[32mSUCCEEDED\x1b[39m");
  });
});
