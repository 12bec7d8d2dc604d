import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { Logger } from "../core/context.js";
import { CallScope } from "./call-scope.js";

const call = { getDeadline: () => Infinity, on: () => undefined };
const info = { op: "get", taskType: "job" } as const;

/** A pino logger at `level` writing to memory, counting the children made of it. */
function countingPino(level: string) {
  const lines: Record<string, unknown>[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level }, out);
  let children = 0;
  const child = logger.child.bind(logger);
  logger.child = (bindings: Record<string, unknown>) => {
    children++;
    return child(bindings);
  };
  return { logger, lines, children: () => children };
}

describe("CallScope.logger", () => {
  it("makes no child logger for a line below the parent's level", () => {
    const p = countingPino("info");
    const scope = new CallScope(call, p.logger, info, new Set());
    scope.logger.debug({ rule: "x" }, "dropped");
    expect(p.children()).toBe(0);
    scope.logger.warn({ rule: "y" }, "kept");
    expect(p.children()).toBe(1);
    // Once made, the child serves every line; pino drops the debug one itself.
    scope.logger.debug("dropped too");
    expect(p.children()).toBe(1);
    expect(p.lines).toHaveLength(1);
    expect(p.lines[0]).toMatchObject({ op: "get", task_type: "job", rule: "y", msg: "kept" });
    scope.dispose();
  });

  it("writes debug lines with the call's bindings when the parent writes debug", () => {
    const p = countingPino("debug");
    const scope = new CallScope(call, p.logger, info, new Set());
    scope.logger.debug({ rule: "x" }, "written");
    expect(p.lines).toEqual([expect.objectContaining({ op: "get", task_type: "job", msg: "written" })]);
    scope.dispose();
  });

  it("logs through a logger without a level check as if every level were enabled", () => {
    const seen: string[] = [];
    const plain: Logger = {
      debug: (_o, m) => seen.push(`debug ${m}`),
      info: () => {},
      warn: () => {},
      error: () => {},
      child: () => plain,
    };
    const scope = new CallScope(call, plain, info, new Set());
    scope.logger.debug({}, "kept");
    expect(seen).toEqual(["debug kept"]);
    scope.dispose();
  });
});
