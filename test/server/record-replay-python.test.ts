import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path, { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateTaskRequest } from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";
import { LiteralMap } from "../../packages/runtime/src/gen/flyteidl/core/literals.js";
import { TaskTemplate } from "../../packages/runtime/src/gen/flyteidl/core/tasks.js";
import { AgentRegistry } from "../../packages/runtime/src/index.js";
import { readRecordedRequest, replayRequest } from "../../src/executor/index.js";
import { AgentServer, RequestRecorder } from "../../packages/runtime/src/server/index.js";
import { compilePythonProtos, python, pythonSkipReason } from "../python/python-protos.js";
import { JobAgent } from "./fixtures/agents.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe.skipIf(pythonSkipReason !== undefined)(
  `recording a Python protobuf peer's CreateTask${pythonSkipReason ? ` (skipped: ${pythonSkipReason})` : ""}`,
  () => {
    let generated: string;
    let dir: string;
    const servers: AgentServer[] = [];

    beforeAll(async () => {
      generated = compilePythonProtos();
      dir = await mkdtemp(join(tmpdir(), "flyte-agent-record-py-"));
    });
    afterAll(async () => {
      for (const s of servers) s.forceShutdown();
      await rm(generated, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    });

    async function recordingServer(name: string) {
      const registry = new AgentRegistry();
      registry.register(new JobAgent());
      const recorder = await RequestRecorder.create({ dir: join(dir, name) });
      const server = await AgentServer.start({ registry, host: "127.0.0.1", port: 0, recorder });
      servers.push(server);
      return { server, recorder };
    }

    const only = async (recorder: RequestRecorder) => {
      await recorder.flushed();
      const files = await readdir(recorder.dir);
      expect(files).toHaveLength(1);
      return join(recorder.dir, files[0]!);
    };

    it("writes the request byte for byte as the peer sent it, and a replay sends the same template and inputs", async () => {
      const a = await recordingServer("a");
      const sentFile = join(dir, "sent.pb");
      await execa(python!, [join(root, "test/python/record_peer.py"), a.server.address, generated, sentFile]);
      const sent = await readFile(sentFile);
      const recordedA = await readFile(await only(a.recorder));
      // Nothing in this request is secret, so the record is the request as Python encoded it.
      expect(recordedA.equals(sent)).toBe(true);

      const b = await recordingServer("b");
      const result = await replayRequest({
        request: await readRecordedRequest(await only(a.recorder)),
        endpoint: b.server.address,
        outputDir: join(dir, "out"),
        pollIntervalMs: 5,
      });
      expect(result.succeeded).toBe(true);
      const peer = CreateTaskRequest.decode(sent);
      const recordedB = CreateTaskRequest.decode(await readFile(await only(b.recorder)));
      const bytes = (r: CreateTaskRequest) => [
        Buffer.from(TaskTemplate.encode(r.template!).finish()),
        Buffer.from(LiteralMap.encode(r.inputs!).finish()),
      ];
      const [templateB, inputsB] = bytes(recordedB);
      // Compared with the peer's own encoding of those two fields, cut from its request bytes.
      expect(templateB!.equals(fieldBytes(sent, 2))).toBe(true);
      expect(inputsB!.equals(fieldBytes(sent, 1))).toBe(true);
      expect(recordedB.taskExecutionMetadata).toEqual(peer.taskExecutionMetadata);
    });
  },
);

/** The bytes of top-level length-delimited field `field` of an encoded message (one occurrence). */
function fieldBytes(message: Uint8Array, field: number): Buffer {
  let pos = 0;
  const varint = () => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = message[pos++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
      shift += 7;
    }
  };
  while (pos < message.length) {
    const tag = varint();
    const wire = tag & 7;
    if (wire === 2) {
      const length = varint();
      if (tag >>> 3 === field) return Buffer.from(message.subarray(pos, pos + length));
      pos += length;
    } else if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error(`unexpected wire type ${wire}`);
  }
  throw new Error(`field ${field} not found`);
}
