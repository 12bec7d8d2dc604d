import { describe, expect, it } from "vitest";
import { CreateTaskRequest } from "../gen/flyteidl/admin/agent.js";
import { LiteralMap } from "../gen/flyteidl/core/literals.js";
import { TaskTemplate } from "../gen/flyteidl/core/tasks.js";
import {
  decodeRecordedRequest,
  decodeRecordedSyncRequests,
  encodeRecordedSyncRequests,
  recordFileName,
  recordFilePattern,
} from "./recorded-request.js";

const template = TaskTemplate.fromPartial({ type: "echo", taskTypeVersion: 1 });
const inputs = LiteralMap.fromPartial({
  literals: { text: { scalar: { primitive: { stringValue: "hi" } } } },
});

describe("recorded requests", () => {
  it("names records so that sorting by name sorts by time, with the task type made path-safe", () => {
    const a = recordFileName(Date.UTC(2026, 10, 26, 4, 30, 0, 123), "create", "big/query v2", "1a2b3c4d");
    const b = recordFileName(Date.UTC(2026, 10, 26, 4, 30, 0, 124), "do", "", "00000000");
    expect(a).toBe("20261126T043000123Z-create-big_query_v2-1a2b3c4d.pb");
    expect(b).toBe("20261126T043000124Z-do-untyped-00000000.pb");
    expect([b, a].sort()).toEqual([a, b]);
    expect(recordFilePattern.test(a) && recordFilePattern.test(b)).toBe(true);
  });

  it("round-trips an ExecuteTaskSync stream, header then inputs", () => {
    const messages = [
      {
        header: {
          template,
          outputPrefix: "s3://b/o",
          taskExecutionMetadata: undefined,
          maxDatasetSizeBytes: 0n,
        },
      },
      { inputs },
    ];
    const bytes = encodeRecordedSyncRequests(messages);
    expect(decodeRecordedSyncRequests(bytes)).toEqual(messages);
    const read = decodeRecordedRequest(bytes, "20261126T043000123Z-do-echo-1a2b3c4d.pb");
    expect(read).toMatchObject({
      op: "do",
      outputPrefix: "s3://b/o",
      template: { type: "echo", taskTypeVersion: 1 },
    });
    expect(read.inputs).toEqual(inputs);
  });

  it("reads a renamed record of either kind by trying both", () => {
    const sync = encodeRecordedSyncRequests([
      { header: { template, outputPrefix: "", taskExecutionMetadata: undefined, maxDatasetSizeBytes: 0n } },
    ]);
    const create = CreateTaskRequest.encode({
      inputs,
      template,
      outputPrefix: "s3://b/o",
      taskExecutionMetadata: undefined,
    }).finish();
    expect(decodeRecordedRequest(sync, "incident.pb").op).toBe("do");
    expect(decodeRecordedRequest(create, "incident.pb").op).toBe("create");
  });

  it("says why bytes are not a record", () => {
    expect(() => decodeRecordedRequest(new Uint8Array(), "x-create-y.pb")).toThrow(
      "it holds no task template",
    );
    expect(() =>
      decodeRecordedRequest(
        CreateTaskRequest.encode({
          ...CreateTaskRequest.fromPartial({}),
          template: { ...template, type: "" },
        }).finish(),
        "x-create-y.pb",
      ),
    ).toThrow("its template has no task type");
    expect(() => decodeRecordedRequest(Buffer.from("plain text, not protobuf"), "notes.pb")).toThrow();
  });
});
