import { describe, expect, it } from "vitest";
import { AgentError_Kind, State } from "../../gen/flyteidl/admin/agent.js";
import { TaskLog, TaskLog_MessageFormat } from "../../gen/flyteidl/core/execution.js";
import { Literal } from "../../gen/flyteidl/core/literals.js";
import { Literal as V2Literal } from "../../gen/v2/flyteidl2/core/literals.js";
import { LogLineOriginator } from "../../gen/v2/flyteidl2/logs/dataplane/payload.js";
import { TaskExecutionPhase } from "../../core/phase.js";
import { connectionOf, inputContextOf, toV2LogLine, toV2Resource, v1Inputs } from "./flyte2-wire.js";

const base = {
  state: State.PERMANENT_FAILURE,
  outputs: undefined,
  message: "quota exceeded",
  logLinks: [],
  phase: TaskExecutionPhase.FAILED,
  customInfo: undefined,
  agentError: undefined,
};

describe("toV2Resource", () => {
  it("sends a RECOVERABLE failure as RETRYABLE_FAILED and keeps the code in the message", () => {
    const v2 = toV2Resource({
      ...base,
      agentError: { code: "QUOTA", kind: AgentError_Kind.RECOVERABLE, origin: 0 },
    });
    expect(v2).toMatchObject({
      phase: TaskExecutionPhase.RETRYABLE_FAILED,
      message: "QUOTA: quota exceeded",
    });
    expect(v2).not.toHaveProperty("state");
    expect(v2).not.toHaveProperty("agentError");
  });

  it("leaves a NON_RECOVERABLE failure FAILED, and does not repeat a code the message already has", () => {
    const v2 = toV2Resource({
      ...base,
      message: "QUOTA reached",
      agentError: { code: "QUOTA", kind: AgentError_Kind.NON_RECOVERABLE, origin: 0 },
    });
    expect(v2).toMatchObject({ phase: TaskExecutionPhase.FAILED, message: "QUOTA reached" });
  });

  it("keeps the outputs' order and every log link field Flyte 1 has", () => {
    const v2 = toV2Resource({
      ...base,
      phase: TaskExecutionPhase.SUCCEEDED,
      message: "",
      outputs: {
        literals: {
          z: Literal.fromPartial({ scalar: { primitive: { integer: 1n } } }),
          a: Literal.fromPartial({ scalar: { primitive: { stringValue: "x" } } }),
        },
      },
      logLinks: [
        TaskLog.fromPartial({
          name: "console",
          uri: "https://c/1",
          messageFormat: TaskLog_MessageFormat.JSON,
          ShowWhilePending: true,
        }),
      ],
    });
    expect(v2.outputs?.literals.map((l) => l.name)).toEqual(["z", "a"]);
    expect(v2.outputs?.literals[0]?.value?.scalar?.primitive?.integer).toBe(1n);
    expect(v2.logLinks[0]).toMatchObject({
      name: "console",
      uri: "https://c/1",
      messageFormat: 2,
      ShowWhilePending: true,
    });
  });
});

describe("Flyte 2 requests", () => {
  it("turns named inputs into a LiteralMap in order, the last of a repeated name winning", () => {
    const map = v1Inputs({
      literals: [
        { name: "b", value: V2Literal.fromPartial({ scalar: { primitive: { integer: 1n } } }) },
        { name: "a", value: V2Literal.fromPartial({ scalar: { primitive: { integer: 2n } } }) },
        { name: "b", value: V2Literal.fromPartial({ scalar: { primitive: { integer: 3n } } }) },
      ],
      context: [],
    });
    expect(Object.keys(map!.literals)).toEqual(["b", "a"]);
    expect(map!.literals.b?.scalar?.primitive?.integer).toBe(3n);
    expect(inputContextOf({ literals: [], context: [] })).toBeUndefined();
    expect(inputContextOf({ literals: [], context: [{ key: "k", value: "v" }] })).toEqual({ k: "v" });
  });

  it("gives the agent the secret values but serializes them blanked", () => {
    const c = connectionOf({ taskType: "t", secrets: { key: "hunter2" }, configs: { region: "eu" } })!;
    expect(c.secrets.key).toBe("hunter2");
    expect(JSON.stringify({ c })).toBe(
      '{"c":{"taskType":"t","secrets":{"key":"***"},"configs":{"region":"eu"}}}',
    );
    expect({ ...c }).toEqual({ taskType: "t", secrets: { key: "hunter2" }, configs: { region: "eu" } });
    expect(connectionOf(undefined)).toBeUndefined();
  });

  it("turns log lines into structured ones", () => {
    expect(toV2LogLine("plain")).toEqual({
      message: "plain",
      timestamp: undefined,
      originator: LogLineOriginator.UNKNOWN,
    });
    expect(toV2LogLine({ message: "m", timestamp: new Date(1500), originator: "system" })).toEqual({
      message: "m",
      timestamp: { seconds: 1n, nanos: 500_000_000 },
      originator: LogLineOriginator.SYSTEM,
    });
  });
});
