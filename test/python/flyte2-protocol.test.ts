import { rmSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateTaskRequest,
  GetTaskResponse,
} from "../../packages/runtime/src/gen/v2/flyteidl2/connector/connector.js";
import { TaskExecution_Phase } from "../../packages/runtime/src/gen/v2/flyteidl2/core/execution.js";
import { compileFlyte2PythonProtos, python, pythonSkipReason } from "./python-protos.js";

const script = path.join(import.meta.dirname, "flyte2_messages.py");

// The generated Flyte 2 code (packages/runtime/src/gen/v2, from @flyteorg/flyteidl2's embedded descriptors) against
// protoc's Python classes of the same descriptors: what one side writes, the other reads as the same message.
describe.skipIf(pythonSkipReason !== undefined)(
  `Flyte 2 protocol code against a Python peer${pythonSkipReason ? ` (skipped: ${pythonSkipReason})` : ""}`,
  () => {
    let generated: string;
    beforeAll(() => {
      generated = compileFlyte2PythonProtos();
    });
    afterAll(() => {
      if (generated) rmSync(generated, { recursive: true, force: true });
    });

    it("reads Python's CreateTaskRequest and GetTaskResponse, and writes bytes Python reads back equal", async () => {
      const { stdout } = await execa(python!, [script, generated, "write"]);
      const written = JSON.parse(stdout) as { create: string; get: string };

      const create = CreateTaskRequest.decode(Buffer.from(written.create, "hex"));
      expect(create.template?.type).toBe("warehouse_query");
      expect(create.template?.custom).toEqual({ warehouse: "duckdb", options: { threads: 2 } });
      expect(create.inputs?.literals.map((l) => l.name)).toEqual(["limit", "query"]);
      expect(create.inputs?.literals[0]?.value?.scalar?.primitive?.integer).toBe(2n ** 62n);
      expect(create.inputs?.literals[1]?.value?.scalar?.primitive?.stringValue).toBe("SELECT 1 -- ünïcode");
      expect(create.connection).toEqual({
        taskType: "warehouse_query",
        secrets: { token: "s3cr3t" },
        configs: { region: "eu" },
      });
      expect(create.taskExecutionMetadata?.labels).toEqual({ "node-id": "a0" });

      const get = GetTaskResponse.decode(Buffer.from(written.get, "hex"));
      expect(get.resource?.phase).toBe(TaskExecution_Phase.SUCCEEDED);
      expect(get.resource?.outputs?.literals[0]?.value?.scalar?.primitive?.integer).toBe(-7n);
      expect(get.resource?.logLinks[0]?.uri).toBe("https://logs.example/1");

      const back = {
        create: Buffer.from(CreateTaskRequest.encode(create).finish()).toString("hex"),
        get: Buffer.from(GetTaskResponse.encode(get).finish()).toString("hex"),
      };
      const checked = await execa(python!, [script, generated, "check"], { input: JSON.stringify(back) });
      expect(JSON.parse(checked.stdout)).toEqual({ create: true, get: true });
    });
  },
);
