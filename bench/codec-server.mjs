// The floor of an agent server in Node: a bare @grpc/grpc-js server that decodes each request with
// the generated codecs and encodes its answer (the agent server's own answer, decoded once at start)
// with them, and does nothing else: no agent call, no resource meta, no metrics, no logging. It
// loads the libraries every agent server loads (zod, which agents' task schemas are written in, and
// pino) and answers grpc.health.v1.Health/Check with SERVING, so that its time to SERVING and idle
// RSS are the floor of those figures too.
// usage: node bench/codec-server.mjs '{"GetTask": "<base64>", ...}' [port]  → prints the port.
import { Buffer } from "node:buffer";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Server, ServerCredentials } from "@grpc/grpc-js";

await import("zod");
const { pino } = await import("pino");
pino({ level: "info" }, pino.destination("/dev/null"));
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pb = await import(path.join(root, "packages/runtime/dist/gen/flyteidl/admin/agent.js"));
const answers = JSON.parse(process.argv[2]);
const decoded = (name, type) => type.decode(Buffer.from(answers[name], "base64"));
const codec = (request, response) => ({
  requestSerialize: (m) => Buffer.from(request.encode(m).finish()),
  requestDeserialize: (b) => request.decode(b),
  responseSerialize: (m) => Buffer.from(response.encode(m).finish()),
  responseDeserialize: (b) => response.decode(b),
});
const method = (service, name, stream, request, response) => ({
  path: `/flyteidl.service.${service}/${name}`,
  requestStream: stream,
  responseStream: stream,
  ...codec(request, response),
});
const getTask = decoded("GetTask", pb.GetTaskResponse);
const createTask = decoded("CreateTask", pb.CreateTaskResponse);
const executeTaskSync = decoded("ExecuteTaskSync", pb.ExecuteTaskSyncResponse);
const server = new Server();
server.addService(
  {
    GetTask: method("AsyncAgentService", "GetTask", false, pb.GetTaskRequest, pb.GetTaskResponse),
    CreateTask: method("AsyncAgentService", "CreateTask", false, pb.CreateTaskRequest, pb.CreateTaskResponse),
  },
  {
    GetTask: (_call, cb) => cb(null, getTask),
    CreateTask: (_call, cb) => cb(null, createTask),
  },
);
server.addService(
  {
    ExecuteTaskSync: method(
      "SyncAgentService",
      "ExecuteTaskSync",
      true,
      pb.ExecuteTaskSyncRequest,
      pb.ExecuteTaskSyncResponse,
    ),
  },
  {
    ExecuteTaskSync: (call) => {
      call.on("data", () => {});
      call.on("end", () => {
        call.write(executeTaskSync);
        call.end();
      });
    },
  },
);
// HealthCheckResponse{status: SERVING}: field 1, varint 1.
const serving = Buffer.from([0x08, 0x01]);
const same = (b) => b;
server.addService(
  {
    Check: {
      path: "/grpc.health.v1.Health/Check",
      requestStream: false,
      responseStream: false,
      requestSerialize: same,
      requestDeserialize: same,
      responseSerialize: same,
      responseDeserialize: same,
    },
  },
  { Check: (_call, cb) => cb(null, serving) },
);
server.bindAsync(`127.0.0.1:${process.argv[3] ?? 0}`, ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`${port}\n`);
});
process.on("SIGTERM", () => server.forceShutdown());
