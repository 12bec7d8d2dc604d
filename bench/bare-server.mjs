// The baseline: a bare @grpc/grpc-js server that answers each method with fixed bytes (the bytes the
// agent server answered), doing no decoding, no agent call, no metrics and no logging.
// usage: node bench/bare-server.mjs '{"GetTask": "<base64>", ...}'  → prints the port.
import { Buffer } from "node:buffer";
import { Server, ServerCredentials } from "@grpc/grpc-js";

const answers = JSON.parse(process.argv[2]);
const same = (b) => b;
const method = (name, requestStream) => ({
  path: `/flyteidl.service.${name === "ExecuteTaskSync" ? "SyncAgentService" : "AsyncAgentService"}/${name}`,
  requestStream,
  responseStream: requestStream,
  requestSerialize: same,
  requestDeserialize: same,
  responseSerialize: same,
  responseDeserialize: same,
});
const server = new Server();
const bytes = (name) => Buffer.from(answers[name], "base64");
server.addService(
  { GetTask: method("GetTask", false), CreateTask: method("CreateTask", false) },
  {
    GetTask: (_call, cb) => cb(null, bytes("GetTask")),
    CreateTask: (_call, cb) => cb(null, bytes("CreateTask")),
  },
);
server.addService(
  { ExecuteTaskSync: method("ExecuteTaskSync", true) },
  {
    ExecuteTaskSync: (call) => {
      call.on("data", () => {});
      call.on("end", () => {
        call.write(bytes("ExecuteTaskSync"));
        call.end();
      });
    },
  },
);
server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`${port}\n`);
});
process.on("SIGTERM", () => server.forceShutdown());
