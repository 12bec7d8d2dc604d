import { EventEmitter } from "node:events";
import type { ServerUnaryCall, sendUnaryData } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../core/context.js";
import { AgentRegistry } from "../core/registry.js";
import { type CallHooks, createCallPipeline } from "./call-pipeline.js";
import type { Protocol } from "./call-scope.js";

/** Enough of a grpc-js unary call for the pipeline: a request, no deadline, "cancelled" events. */
function unaryCall<Req>(request: Req): ServerUnaryCall<Req, unknown> {
  return Object.assign(new EventEmitter(), {
    request,
    getDeadline: () => Infinity,
  }) as unknown as ServerUnaryCall<Req, unknown>;
}

describe("call pipeline hooks", () => {
  it("see the protocol a service names in its CallInfo, flyte1 when it names none", async () => {
    const seen: [string, Protocol][] = [];
    const hooks: CallHooks = {
      onStart: (op, _t, _n, protocol) => (seen.push([`start ${op}`, protocol]), true),
      onEnd: (op, _t, seconds, _code, protocol) => {
        expect(seconds).toBeGreaterThanOrEqual(0);
        seen.push([`end ${op}`, protocol]);
      },
    };
    const pipeline = createCallPipeline({ registry: new AgentRegistry(), logger: silentLogger, hooks });
    const answered = (handler: ReturnType<typeof pipeline.unary<string, string>>) =>
      new Promise<string | null | undefined>((resolve, reject) => {
        const callback: sendUnaryData<string> = (err, value) =>
          err ? reject(new Error(err.details ?? "call failed")) : resolve(value);
        handler(unaryCall("req"), callback);
      });
    const flyte2 = pipeline.unary<string, string>(
      () => ({ op: "get", taskType: "", protocol: "flyte2" }),
      (req) => Promise.resolve(`${req} answered`),
    );
    const flyte1 = pipeline.unary<string, string>(
      () => ({ op: "list", taskType: "" }),
      () => Promise.resolve("listed"),
    );
    expect(await answered(flyte2)).toBe("req answered");
    expect(await answered(flyte1)).toBe("listed");
    expect(seen).toEqual([
      ["start get", "flyte2"],
      ["end get", "flyte2"],
      ["start list", "flyte1"],
      ["end list", "flyte1"],
    ]);
  });
});
