import { describe, expect, it } from "vitest";
import { CreateTaskRequest, ExecuteTaskSyncRequest } from "../../gen/flyteidl/admin/agent.js";
import { LiteralMap } from "../../gen/flyteidl/core/literals.js";
import { recordingFieldSize, wireSizeOf } from "./wire-sizes.js";

const inputs = LiteralMap.fromPartial({
  literals: {
    n: { scalar: { primitive: { integer: 42n } } },
    text: { scalar: { primitive: { stringValue: "x".repeat(300) } } },
  },
});

describe("recordingFieldSize", () => {
  it("records the inputs' size as it was on the wire, around the other fields", () => {
    const bytes = Buffer.from(
      CreateTaskRequest.encode(
        CreateTaskRequest.fromPartial({ template: { type: "job" }, inputs, outputPrefix: "s3://b/p" }),
      ).finish(),
    );
    const decode = recordingFieldSize(
      (b) => CreateTaskRequest.decode(b),
      1,
      (r) => r.inputs,
    );
    const request = decode(bytes);
    expect(request.template?.type).toBe("job");
    expect(wireSizeOf(request.inputs)).toBe(LiteralMap.encode(inputs).finish().length);
  });

  it("reads the field number it is given (ExecuteTaskSyncRequest.inputs is field 2)", () => {
    const bytes = Buffer.from(ExecuteTaskSyncRequest.encode({ header: undefined, inputs }).finish());
    const request = recordingFieldSize(
      (b) => ExecuteTaskSyncRequest.decode(b),
      2,
      (r) => r.inputs,
    )(bytes);
    expect(wireSizeOf(request.inputs)).toBe(LiteralMap.encode(inputs).finish().length);
  });

  it("records nothing for a request without inputs", () => {
    const bytes = Buffer.from(CreateTaskRequest.encode(CreateTaskRequest.fromPartial({})).finish());
    const request = recordingFieldSize(
      (b) => CreateTaskRequest.decode(b),
      1,
      (r) => r.inputs,
    )(bytes);
    expect(request.inputs).toBeUndefined();
    expect(wireSizeOf(request.inputs)).toBeUndefined();
  });
});
