import { describe, expect, it } from "vitest";
import { Resource as ProtoResource, State } from "../gen/flyteidl/admin/agent.js";
import { TaskExecutionPhase } from "./phase.js";
import { TaskLog, TaskLog_MessageFormat } from "../gen/flyteidl/core/execution.js";
import { toProtoResource } from "./proto-resource.js";
import type { LogLink, Resource } from "./resource.js";

const noOutputs = () => {
  throw new Error("no outputs expected");
};

describe("toProtoResource", () => {
  it("puts a phase-less resource on the wire as UNDEFINED instead of failing to serialize", () => {
    const proto = toProtoResource({} as Resource, noOutputs);
    const back = ProtoResource.decode(ProtoResource.encode(proto).finish());
    expect(back.phase).toBe(TaskExecutionPhase.UNDEFINED);
    expect(back.state).toBe(State.RETRYABLE_FAILURE);
  });

  it("mirrors the phase into the deprecated state and keeps links, custom info and agent error", () => {
    const proto = toProtoResource(
      {
        phase: TaskExecutionPhase.FAILED,
        message: "quota",
        logLinks: [{ name: "Job", uri: "http://x/1" }],
        customInfo: { rows: 3 },
        agentError: { code: "QUOTA", kind: "RECOVERABLE" },
      },
      noOutputs,
    );
    const back = ProtoResource.decode(ProtoResource.encode(proto).finish());
    expect(back.state).toBe(State.PERMANENT_FAILURE);
    expect(back.logLinks[0]).toMatchObject({ name: "Job", uri: "http://x/1" });
    expect(back.customInfo).toEqual({ rows: 3 });
    expect(back.agentError).toMatchObject({ code: "QUOTA", kind: 1 });
  });

  it("puts every TaskLog field of a link on the wire, and defaults for a plain {name, uri}", () => {
    const full = {
      name: "Pod",
      uri: "http://x/2",
      messageFormat: TaskLog_MessageFormat.JSON,
      ttl: { seconds: 60n, nanos: 5 },
      ShowWhilePending: true,
      HideOnceFinished: true,
    };
    const proto = toProtoResource(
      { phase: TaskExecutionPhase.RUNNING, logLinks: [{ name: "Job", uri: "http://x/1" }, full] },
      noOutputs,
    );
    const back = ProtoResource.decode(ProtoResource.encode(proto).finish());
    expect(back.logLinks).toEqual([
      TaskLog.fromPartial({ name: "Job", uri: "http://x/1" }),
      TaskLog.fromPartial(full),
    ]);
    // A partial ttl (as an agent may write it) still encodes.
    const partial = toProtoResource(
      {
        phase: TaskExecutionPhase.RUNNING,
        logLinks: [{ name: "a", uri: "b", ttl: { seconds: 3n } } as unknown as LogLink],
      },
      noOutputs,
    );
    expect(ProtoResource.decode(ProtoResource.encode(partial).finish()).logLinks[0]?.ttl).toEqual({
      seconds: 3n,
      nanos: 0,
    });
  });

  it("encodes plain outputs through the given encoder and passes a LiteralMap through", () => {
    const map = { literals: { a: { scalar: { primitive: { stringValue: "x" } }, hash: "", metadata: {} } } };
    expect(toProtoResource({ phase: 3, outputs: { a: "x" } }, () => map).outputs).toBe(map);
    expect(toProtoResource({ phase: 3, outputs: map }, noOutputs).outputs).toBe(map);
  });
});
