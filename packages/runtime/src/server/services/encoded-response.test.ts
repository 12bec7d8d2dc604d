import { describe, expect, it } from "vitest";
import { GetTaskResponse } from "../../gen/flyteidl/admin/agent.js";
import { encodeResponse } from "./encoded-response.js";

const response = (message: string): GetTaskResponse => ({
  resource: {
    state: 0,
    outputs: undefined,
    message,
    logLinks: [],
    phase: 2,
    customInfo: undefined,
    agentError: undefined,
  },
});

const decoded = (bytes: unknown) => GetTaskResponse.decode(bytes as Buffer).resource?.message;

describe("encodeResponse", () => {
  it("encodes each response on its own bytes, one after another, small after large", () => {
    const a = encodeResponse(GetTaskResponse, response("first"), undefined);
    const big = encodeResponse(GetTaskResponse, response("x".repeat(100_000)), undefined);
    const b = encodeResponse(GetTaskResponse, response("second"), undefined);
    expect(decoded(a)).toBe("first");
    expect(decoded(big)).toBe("x".repeat(100_000));
    expect(decoded(b)).toBe("second");
    expect(Buffer.from(a as unknown as Buffer)).toEqual(
      Buffer.from(GetTaskResponse.encode(response("first")).finish()),
    );
  });

  it("encodes the next response right after one that failed half-way", () => {
    const bad = response("half");
    (bad.resource as unknown as { logLinks: unknown }).logLinks = [{ uri: 5 }];
    expect(() => encodeResponse(GetTaskResponse, bad, undefined)).toThrow();
    const next = encodeResponse(GetTaskResponse, response("next"), undefined);
    expect(Buffer.from(next as unknown as Buffer)).toEqual(
      Buffer.from(GetTaskResponse.encode(response("next")).finish()),
    );
  });
});
