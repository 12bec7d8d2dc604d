// Encode/decode cost of Flyte 2's connector messages: the ts-proto code generated into packages/runtime/src/gen/v2 (what
// the server uses) against the official protobuf-es v2 code in @flyteorg/flyteidl2, on the same messages.
// `node bench/flyteidl2-codec.mjs [--quick]`; figures in bench/README.md ("Flyte 2 protocol code").
import { createRequire } from "node:module";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { tsImport } from "tsx/esm/api";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(root, "package.json"));
const official = path.dirname(require.resolve("@flyteorg/flyteidl2/package.json"));
const load = (file) => tsImport(pathToFileURL(file).href, import.meta.url);

const tsProto = await load(path.join(root, "packages/runtime/src/gen/v2/flyteidl2/connector/connector.ts"));
const es = await load(path.join(official, "flyteidl2/connector/connector_pb.ts"));
const { equals, fromBinary, toBinary, fromJson } = await import("@bufbuild/protobuf");

const int = (v) => ({ scalar: { primitive: { integer: String(v) } } });
const str = (v) => ({ scalar: { primitive: { stringValue: v } } });
// A CreateTaskRequest as Flyte 2's executor sends it: a template with a custom config and a typed
// interface, three inputs, execution metadata and a connection with one secret.
const createJson = {
  inputs: {
    literals: [
      { name: "limit", value: int(100) },
      { name: "query", value: str("SELECT * FROM t WHERE x > 1") },
      { name: "region", value: str("us-east1") },
    ],
  },
  template: {
    id: {
      resourceType: "TASK",
      project: "flytesnacks",
      domain: "development",
      name: "my_pkg.tasks.query",
      version: "v10",
    },
    type: "bigquery_query_job_task",
    metadata: {
      runtime: { type: "FLYTE_SDK", version: "2.0.0", flavor: "python" },
      timeout: "3600s",
      retries: { retries: 2 },
    },
    interface: {
      inputs: {
        variables: [
          { key: "limit", value: { type: { simple: "INTEGER" } } },
          { key: "query", value: { type: { simple: "STRING" } } },
          { key: "region", value: { type: { simple: "STRING" } } },
        ],
      },
      outputs: {
        variables: [{ key: "results", value: { type: { structuredDatasetType: { format: "parquet" } } } }],
      },
    },
    custom: {
      ProjectID: "flyte-project",
      Location: "us",
      QueryConfig: { useLegacySql: false, maximumBytesBilled: 1000000 },
    },
  },
  outputPrefix: "s3://bucket/metadata/propeller/flytesnacks-development-abc123/n0/data/0",
  taskExecutionMetadata: {
    taskExecutionId: {
      nodeExecutionId: {
        nodeId: "n0",
        executionId: { project: "flytesnacks", domain: "development", name: "abc123" },
      },
      retryAttempt: 0,
    },
    namespace: "flytesnacks-development",
    labels: { "execution-id": "abc123", "task-name": "my-pkg-tasks-query", "node-id": "n0" },
    k8sServiceAccount: "default",
  },
  connection: {
    taskType: "bigquery_query_job_task",
    secrets: { GOOGLE_APPLICATION_CREDENTIALS: "{...}" },
    configs: { region: "us" },
  },
};
// A GetTaskResponse for a finished job: outputs, two log links, a message and custom info.
const getJson = {
  resource: {
    phase: "SUCCEEDED",
    message: "job done",
    outputs: {
      literals: [
        {
          name: "results",
          value: {
            scalar: {
              structuredDataset: {
                uri: "s3://bucket/results/abc",
                metadata: { structuredDatasetType: { format: "parquet" } },
              },
            },
          },
        },
      ],
    },
    logLinks: [
      { uri: "https://console.cloud.google.com/bigquery?j=bq:us:job-1", name: "BigQuery Console" },
      { uri: "https://logs.example.com/job-1", name: "Logs" },
    ],
    customInfo: { jobId: "job-1", bytesProcessed: 12345 },
  },
};

const cases = [
  {
    name: "CreateTaskRequest",
    json: createJson,
    tp: tsProto.CreateTaskRequest,
    schema: es.CreateTaskRequestSchema,
  },
  { name: "GetTaskResponse", json: getJson, tp: tsProto.GetTaskResponse, schema: es.GetTaskResponseSchema },
];
const quick = process.argv.includes("--quick");
const iterations = quick ? 20_000 : 200_000;
const time = (fn) => {
  for (let i = 0; i < iterations / 10; i++) fn(); // warm-up
  const samples = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) fn();
    samples.push(((performance.now() - t0) * 1e6) / iterations);
  }
  return samples.sort((a, b) => a - b)[2]; // median ns/op
};

console.log(`node ${process.version}, ${iterations} iterations x 5 rounds, median ns/op\n`);
console.log(
  "| message | bytes | op | ts-proto (packages/runtime/src/gen/v2) | protobuf-es (@flyteorg/flyteidl2) | protobuf-es / ts-proto |",
);
console.log("|---|---|---|---|---|---|");
for (const c of cases) {
  // protobuf-es parses the canonical JSON mapping (ts-proto's fromJSON does not read Duration strings);
  // ts-proto's message is what it decodes from those bytes, and must encode back to the same message.
  const esMsg = fromJson(c.schema, c.json);
  const esBytes = toBinary(c.schema, esMsg);
  const tpMsg = c.tp.decode(esBytes);
  const tpBytes = c.tp.encode(tpMsg).finish();
  if (!equals(c.schema, fromBinary(c.schema, tpBytes), esMsg) || tpBytes.length !== esBytes.length) {
    throw new Error(`${c.name}: ts-proto and protobuf-es do not agree on the message`);
  }
  const rows = [
    ["decode", time(() => c.tp.decode(esBytes)), time(() => fromBinary(c.schema, esBytes))],
    ["encode", time(() => c.tp.encode(tpMsg).finish()), time(() => toBinary(c.schema, esMsg))],
  ];
  for (const [op, a, b] of rows) {
    console.log(
      `| ${c.name} | ${esBytes.length} | ${op} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(b / a).toFixed(2)} |`,
    );
  }
}
