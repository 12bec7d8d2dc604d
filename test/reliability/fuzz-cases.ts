// Seeded generation of bad (and some good) requests for every RPC of the agent server. A case depends
// only on (seed, index), so one failing case can be generated again on its own.
import { gzipSync } from "node:zlib";
import { status } from "@grpc/grpc-js";
import {
  CreateTaskRequest,
  DeleteTaskRequest,
  ExecuteTaskSyncRequest,
  GetAgentRequest,
  GetTaskLogsRequest,
  GetTaskMetricsRequest,
  GetTaskRequest,
  ListAgentsRequest,
  type MessageFns,
} from "../../packages/runtime/src/gen/flyteidl/admin/agent.js";

/** mulberry32: a tiny PRNG, good enough to pick cases and reproducible from one 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Helpers over a PRNG. */
export class Rng {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }
  float(): number {
    return this.#next();
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.#next() * n);
  }
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.#next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
  word(max = 12): string {
    const letters = "abcdefghijklmnopqrstuvwxyz_0123456789";
    let s = "";
    for (let i = this.range(1, max); i > 0; i--) s += letters[this.int(letters.length)];
    return s;
  }
}

/** The RPCs under test, by gRPC path. */
export const Paths = {
  createTask: "/flyteidl.service.AsyncAgentService/CreateTask",
  getTask: "/flyteidl.service.AsyncAgentService/GetTask",
  deleteTask: "/flyteidl.service.AsyncAgentService/DeleteTask",
  getTaskMetrics: "/flyteidl.service.AsyncAgentService/GetTaskMetrics",
  getTaskLogs: "/flyteidl.service.AsyncAgentService/GetTaskLogs",
  executeTaskSync: "/flyteidl.service.SyncAgentService/ExecuteTaskSync",
  getAgent: "/flyteidl.service.AgentMetadataService/GetAgent",
  listAgents: "/flyteidl.service.AgentMetadataService/ListAgents",
  healthCheck: "/grpc.health.v1.Health/Check",
} as const;
export type Method = keyof typeof Paths;
export const methods = Object.keys(Paths) as Method[];
/** Methods whose request names a resource_meta. */
const metaMethods = ["getTask", "deleteTask", "getTaskMetrics", "getTaskLogs"] as const;

/** The kinds of case, in the order the report lists them. */
export const kinds = [
  "random-bytes",
  "truncated",
  "bit-flip",
  "wrong-wire-type",
  "unknown-field",
  "frame-too-long",
  "frame-too-short",
  "compressed-flag",
  "multi-frame",
  "empty-body",
  "claims-oversized",
  "oversized",
  "garbage-meta",
  "unknown-enum",
  "wrong-type",
  "deep-nesting",
  "missing-fields",
  "wrong-path",
  "bad-headers",
  "valid",
] as const;
export type Kind = (typeof kinds)[number];

/** One request to send: the body goes out as DATA frames, then END_STREAM. */
export interface FuzzCase {
  readonly index: number;
  readonly kind: Kind;
  readonly method: Method | "other";
  readonly path: string;
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  /** gRPC status codes this case may end with. */
  readonly allowed: readonly status[];
  /** What the case does, for failure messages. */
  readonly note: string;
}

const S = status;
/**
 * Any answer a request that may or may not decode can get. Never UNKNOWN (a handler threw), never
 * DEADLINE_EXCEEDED or CANCELLED (no deadline is sent and the client does not cancel).
 */
const anyAnswer: readonly status[] = [
  S.OK,
  S.INVALID_ARGUMENT,
  S.NOT_FOUND,
  S.FAILED_PRECONDITION,
  S.UNIMPLEMENTED,
  S.INTERNAL,
  S.RESOURCE_EXHAUSTED,
];
/** The largest message the server accepts (gRPC's default). */
export const maxMessage = 4 * 1024 * 1024;

/** The 5-byte gRPC frame header + payload. */
export function frame(payload: Buffer, options: { flag?: number; length?: number } = {}): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(options.flag ?? 0, 0);
  header.writeUInt32BE(options.length ?? payload.length, 1);
  return Buffer.concat([header, payload]);
}

function encode<T>(fns: MessageFns<T>, partial: unknown): Buffer {
  const message = (fns.fromPartial as (o: unknown) => T)(partial);
  return Buffer.from(fns.encode(message).finish());
}

// ---- literals and types -------------------------------------------------------------------------

const Simple = {
  NONE: 0,
  INTEGER: 1,
  FLOAT: 2,
  STRING: 3,
  BOOLEAN: 4,
  DATETIME: 5,
  DURATION: 6,
  BINARY: 7,
  ERROR: 8,
  STRUCT: 9,
} as const;

interface Typed {
  readonly type: Record<string, unknown>;
  readonly literal: Record<string, unknown>;
}

const scalar = (s: Record<string, unknown>) => ({ scalar: s });
const prim = (p: Record<string, unknown>) => scalar({ primitive: p });

/** A literal and its declared type that agree. */
function typedValue(rng: Rng, depth = 0): Typed {
  const choice = rng.int(depth > 2 ? 9 : 13);
  switch (choice) {
    case 0:
      return {
        type: { simple: Simple.INTEGER },
        literal: prim({ integer: BigInt(rng.range(-1e9, 1e9)) * (rng.chance(0.2) ? 1n << 30n : 1n) }),
      };
    case 1:
      return {
        type: { simple: Simple.FLOAT },
        literal: prim({ floatValue: rng.pick([0, -0, 1.5, NaN, Infinity, -Infinity, 1e308, rng.float()]) }),
      };
    case 2:
      return { type: { simple: Simple.STRING }, literal: prim({ stringValue: rng.word(40) }) };
    case 3:
      return { type: { simple: Simple.BOOLEAN }, literal: prim({ boolean: rng.chance(0.5) }) };
    case 4:
      return {
        type: { simple: Simple.DATETIME },
        literal: prim({
          datetime: {
            seconds: rng.pick([0n, 1_700_000_000n, -62_135_596_800n, 253_402_300_799n, -1n]),
            nanos: rng.pick([0, 999_999_999]),
          },
        }),
      };
    case 5:
      return {
        type: { simple: Simple.DURATION },
        literal: prim({
          duration: {
            seconds: rng.pick([0n, 30n, 315_576_000_000n, -315_576_000_000n]),
            nanos: 0,
          },
        }),
      };
    case 6:
      return { type: { simple: Simple.NONE }, literal: scalar({ noneType: {} }) };
    case 7:
      return {
        type: { simple: Simple.STRUCT },
        literal: scalar({ generic: { a: rng.word(), n: rng.int(100), nested: { list: [1, "x", null] } } }),
      };
    case 8:
      return {
        type: { simple: Simple.BINARY },
        literal: scalar({ binary: { value: rng.bytes(rng.int(32)), tag: rng.word() } }),
      };
    case 9: {
      const item = typedValue(rng, depth + 1);
      const literals = Array.from({ length: rng.int(4) }, () => item.literal);
      return { type: { collectionType: item.type }, literal: { collection: { literals } } };
    }
    case 10: {
      const item = typedValue(rng, depth + 1);
      return {
        type: { mapValueType: item.type },
        literal: { map: { literals: { [rng.word()]: item.literal, [rng.word()]: item.literal } } },
      };
    }
    case 11:
      return {
        type: { blob: { format: rng.pick(["", "csv", "parquet"]), dimensionality: rng.int(2) } },
        literal: scalar({
          blob: {
            uri: `s3://bucket/${rng.word()}`,
            metadata: { type: { format: "csv", dimensionality: rng.int(2) } },
          },
        }),
      };
    default: {
      const values = [rng.word(), rng.word()];
      return { type: { enumType: { values } }, literal: prim({ stringValue: rng.pick(values) }) };
    }
  }
}

/** A task template of `taskType` with inputs and outputs declared, and inputs that fit them. */
function templateAndInputs(rng: Rng, taskType: string, version = 0) {
  const variables: Record<string, unknown> = {};
  const outputs: Record<string, unknown> = {};
  const literals: Record<string, unknown> = {};
  for (let i = rng.int(4); i > 0; i--) {
    const name = rng.word(8);
    const v = typedValue(rng);
    variables[name] = { type: v.type, description: "" };
    outputs[name] = { type: v.type, description: "" };
    literals[name] = v.literal;
  }
  return {
    template: {
      id: { project: "p", domain: "d", name: `t.${rng.word()}`, version: "v1" },
      type: taskType,
      taskTypeVersion: version,
      interface: { inputs: { variables }, outputs: { variables: outputs } },
      custom: rng.chance(0.5) ? { query: rng.word(30), n: rng.int(10) } : undefined,
      config: rng.chance(0.3) ? { k: rng.word() } : {},
    },
    inputs: { literals },
  };
}

function executionMetadata(rng: Rng) {
  return {
    taskExecutionId: {
      taskId: { project: "p", domain: "d", name: "t", version: "v" },
      nodeExecutionId: { nodeId: "n0", executionId: { project: "p", domain: "d", name: rng.word() } },
      retryAttempt: rng.int(3),
    },
    namespace: "p-d",
    labels: { l: rng.word() },
    k8sServiceAccount: "default",
    environmentVariables: { E: rng.word() },
  };
}

const jobMeta = (id = "job-1") => Buffer.from(JSON.stringify({ job_id: id }));
const jobCategory = { name: "fuzz_job", version: 0 };

/**
 * The frames of a valid request for `method`, and the status it gets. ExecuteTaskSync has two frames
 * (header, then inputs); every other method one.
 */
function validRequest(rng: Rng, method: Method): { frames: Buffer[]; expect: status } {
  switch (method) {
    case "createTask": {
      const { template, inputs } = templateAndInputs(rng, "fuzz_job");
      const req = {
        template,
        inputs,
        outputPrefix: `s3://out/${rng.word()}`,
        taskExecutionMetadata: executionMetadata(rng),
      };
      return { frames: [encode(CreateTaskRequest, req)], expect: S.OK };
    }
    case "getTask":
      return {
        frames: [
          encode(GetTaskRequest, {
            taskType: "fuzz_job",
            resourceMeta: jobMeta(),
            taskCategory: jobCategory,
            outputPrefix: "s3://out/x",
          }),
        ],
        expect: S.OK,
      };
    case "deleteTask":
      return {
        frames: [
          encode(DeleteTaskRequest, {
            taskType: "fuzz_job",
            resourceMeta: jobMeta(),
            taskCategory: jobCategory,
          }),
        ],
        expect: S.OK,
      };
    case "getTaskMetrics":
      return {
        frames: [
          encode(GetTaskMetricsRequest, {
            taskType: "fuzz_job",
            resourceMeta: jobMeta(),
            queries: ["cpu"],
            startTime: { seconds: 1_700_000_000n, nanos: 0 },
            endTime: { seconds: 1_700_000_600n, nanos: 0 },
            step: { seconds: 60n, nanos: 0 },
            taskCategory: jobCategory,
          }),
        ],
        expect: S.OK,
      };
    case "getTaskLogs":
      return {
        frames: [
          encode(GetTaskLogsRequest, {
            taskType: "fuzz_job",
            resourceMeta: jobMeta(),
            lines: 10n,
            token: "",
            taskCategory: jobCategory,
          }),
        ],
        expect: S.OK,
      };
    case "executeTaskSync": {
      const { template, inputs } = templateAndInputs(rng, "fuzz_echo");
      return {
        frames: [
          encode(ExecuteTaskSyncRequest, {
            header: { template, outputPrefix: "s3://out/y", taskExecutionMetadata: executionMetadata(rng) },
          }),
          encode(ExecuteTaskSyncRequest, { inputs }),
        ],
        // Echoed inputs may not fit the declared output types (a NaN float is fine, a datetime out of
        // range is not): that is the client's fault, INVALID_ARGUMENT.
        expect: S.OK,
      };
    }
    case "getAgent":
      return {
        frames: [encode(GetAgentRequest, { name: rng.pick(["FuzzJobAgent", "FuzzEchoAgent"]) })],
        expect: S.OK,
      };
    case "listAgents":
      return { frames: [encode(ListAgentsRequest, {})], expect: S.OK };
    case "healthCheck":
      return {
        frames: [
          healthRequest(
            rng.pick(["", "flyteidl.service.AsyncAgentService", "flyteidl.service.SyncAgentService"]),
          ),
        ],
        expect: S.OK,
      };
  }
}

function healthRequest(service: string): Buffer {
  const s = Buffer.from(service);
  return service ? Buffer.concat([Buffer.from([0x0a]), varint(s.length), s]) : Buffer.alloc(0);
}

function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

// ---- protobuf surgery ---------------------------------------------------------------------------

interface Field {
  readonly start: number;
  readonly end: number;
  readonly number: number;
  readonly wireType: number;
}

/** The top-level fields of a well-formed message (stops at the first thing it cannot read). */
function scanFields(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let i = 0;
  const readVarint = (): bigint | undefined => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) return undefined;
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const start = i;
    const tag = readVarint();
    if (tag === undefined) break;
    const wireType = Number(tag & 7n);
    if (wireType === 0) {
      if (readVarint() === undefined) break;
    } else if (wireType === 1) i += 8;
    else if (wireType === 5) i += 4;
    else if (wireType === 2) {
      const len = readVarint();
      if (len === undefined) break;
      i += Number(len);
    } else break;
    if (i > buf.length) break;
    fields.push({ start, end: i, number: Number(tag >> 3n), wireType });
  }
  return fields;
}

/** A field `number` with `wireType` and a random payload of that wire type (3, 4, 6, 7 included). */
function fieldOfWireType(rng: Rng, number: number, wireType: number): Buffer {
  const tag = varint((BigInt(number) << 3n) | BigInt(wireType));
  switch (wireType) {
    case 0:
      return Buffer.concat([tag, varint(BigInt(rng.range(0, 2 ** 31)) * BigInt(rng.range(1, 2 ** 20)))]);
    case 1:
      return Buffer.concat([tag, rng.bytes(8)]);
    case 2: {
      const payload = rng.bytes(rng.int(24));
      return Buffer.concat([tag, varint(payload.length), payload]);
    }
    case 5:
      return Buffer.concat([tag, rng.bytes(4)]);
    default:
      // Groups (3, 4) and the unused wire types 6 and 7.
      return Buffer.concat([tag, rng.bytes(rng.int(6))]);
  }
}

/** Re-encodes one top-level field with another wire type, or adds one if the message is empty. */
function wrongWireType(rng: Rng, payload: Buffer): { payload: Buffer; note: string } {
  const fields = scanFields(payload);
  const target =
    fields.length > 0 ? rng.pick(fields) : { start: 0, end: 0, number: rng.range(1, 8), wireType: 2 };
  const choices = [0, 1, 2, 3, 4, 5, 6, 7].filter((w) => w !== target.wireType);
  const wt = rng.pick(choices);
  const replacement = fieldOfWireType(rng, target.number, wt);
  return {
    payload: Buffer.concat([payload.subarray(0, target.start), replacement, payload.subarray(target.end)]),
    note: `field ${target.number} re-encoded with wire type ${wt} (was ${target.wireType})`,
  };
}

function flipBits(rng: Rng, payload: Buffer): { payload: Buffer; note: string } {
  const out = Buffer.from(payload);
  if (out.length === 0)
    return { payload: rng.bytes(rng.range(1, 8)), note: "empty message replaced by random bytes" };
  const n = rng.range(1, 8);
  const at: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = rng.int(out.length);
    out[i] = (out[i] ?? 0) ^ (1 << rng.int(8));
    at.push(i);
  }
  return { payload: out, note: `${n} bit(s) flipped at bytes ${at.join(",")}` };
}

// ---- garbage for resource_meta ------------------------------------------------------------------

function deepJson(depth: number, open: string, close: string): string {
  return open.repeat(depth) + close.repeat(depth);
}

function garbageMeta(rng: Rng): { meta: Buffer; expect: readonly status[]; note: string } {
  const bad = [S.INVALID_ARGUMENT];
  switch (rng.int(12)) {
    case 0:
      return { meta: rng.bytes(rng.int(64)), expect: bad, note: "random bytes" };
    case 1: {
      // Lone continuation bytes and a truncated multi-byte sequence around otherwise good JSON.
      const meta = Buffer.concat([
        Buffer.from('{"job_id":"'),
        Buffer.from([0xc3, 0x28, 0xff, 0xe2, 0x82]),
        Buffer.from('"}'),
      ]);
      // Decoded leniently the string is valid JSON with replacement characters: either answer is fine.
      return { meta, expect: [S.OK, S.INVALID_ARGUMENT], note: "invalid UTF-8 inside the job id" };
    }
    case 2:
      return {
        meta: Buffer.from(
          rng.pick([
            "1",
            "[]",
            '"job"',
            "null",
            "true",
            "{}",
            '{"job_id":5}',
            '{"job_id":null}',
            '[{"job_id":"x"}]',
          ]),
        ),
        expect: bad,
        note: "JSON of the wrong shape",
      };
    case 3:
      return {
        meta: Buffer.from(JSON.stringify({ job_id: "x", attempt: rng.pick([1.5, "2", null, [1]]) })),
        expect: bad,
        note: "a field of the wrong type",
      };
    case 4: {
      const size = rng.range(100_000, 1_000_000);
      return {
        meta: Buffer.from(JSON.stringify({ job_id: "x".repeat(size) })),
        expect: [S.OK],
        note: `huge but valid JSON (${size} bytes)`,
      };
    }
    case 5: {
      const size = rng.range(100_000, 1_000_000);
      return {
        meta: Buffer.from(`{"job_id":"x","pad":[${"0,".repeat(size / 2)}0]}`),
        expect: [S.OK],
        note: `huge JSON with an unknown key (${size} bytes)`,
      };
    }
    case 6: {
      const depth = rng.range(1_000, 200_000);
      return {
        meta: Buffer.from(deepJson(depth, "[", "]")),
        expect: bad,
        note: `arrays nested ${depth} deep`,
      };
    }
    case 7: {
      const depth = rng.range(1_000, 100_000);
      return {
        meta: Buffer.from(`{"job_id":"x","deep":${deepJson(depth, '{"a":', "}").replace(/:\}/, ":1}")}}`),
        expect: [S.OK, S.INVALID_ARGUMENT],
        note: `objects nested ${depth} deep under an unknown key`,
      };
    }
    case 8:
      return {
        meta: Buffer.from('{"job_id":"x","__proto__":{"polluted":true},"constructor":{"prototype":{"p":1}}}'),
        expect: [S.OK],
        note: "prototype-pollution keys",
      };
    case 9:
      return {
        meta: Buffer.from(rng.pick(["NaN", '{"job_id":NaN}', "{'job_id':'x'}", '{"job_id":"x"', ""])),
        expect: bad,
        note: "not JSON",
      };
    case 10:
      return {
        meta: Buffer.from(`\ufeff${JSON.stringify({ job_id: "x" })}`),
        expect: [S.OK, S.INVALID_ARGUMENT],
        note: "a byte-order mark",
      };
    default:
      return {
        meta: Buffer.from(JSON.stringify({ job_id: rng.word(), extra: rng.word(), attempt: 2 })),
        expect: [S.OK],
        note: "valid JSON with an unknown key",
      };
  }
}

// ---- the cases ----------------------------------------------------------------------------------

type Draft = Omit<FuzzCase, "index" | "kind" | "headers"> & { headers?: Record<string, string> };

const unaryish = (m: Method) => m !== "executeTaskSync";

function frames(parts: readonly Buffer[]): Buffer {
  return Buffer.concat(parts.map((p) => frame(p)));
}

function generators(rng: Rng): Record<Exclude<Kind, "oversized">, () => Draft> {
  const anyMethod = () => rng.pick(methods);
  const valid = (m: Method, note = "valid request"): Draft => {
    const v = validRequest(rng, m);
    return { method: m, path: Paths[m], body: frames(v.frames), allowed: [v.expect], note };
  };
  /** A valid request of `m` with `mutate` applied to one of its frames. */
  const mutated = (m: Method, mutate: (p: Buffer) => { payload: Buffer; note: string }): Draft => {
    const v = validRequest(rng, m);
    const which = rng.int(v.frames.length);
    const result = mutate(v.frames[which] ?? Buffer.alloc(0));
    const parts = v.frames.map((f, i) => (i === which ? result.payload : f));
    return {
      method: m,
      path: Paths[m],
      body: frames(parts),
      allowed: anyAnswer,
      note: `frame ${which}: ${result.note}`,
    };
  };

  return {
    "random-bytes": () => {
      const m = anyMethod();
      const raw = rng.chance(0.5);
      const bytes = rng.bytes(rng.int(96));
      return {
        method: m,
        path: Paths[m],
        body: raw ? bytes : frame(bytes),
        allowed: anyAnswer,
        note: raw
          ? `${bytes.length} random bytes, no frame header`
          : `a frame of ${bytes.length} random bytes`,
      };
    },
    truncated: () =>
      mutated(anyMethod(), (p) => {
        const at = p.length > 0 ? rng.int(p.length) : 0;
        return { payload: p.subarray(0, at), note: `message cut at byte ${at} of ${p.length}` };
      }),
    "bit-flip": () => mutated(anyMethod(), (p) => flipBits(rng, p)),
    "wrong-wire-type": () => mutated(anyMethod(), (p) => wrongWireType(rng, p)),
    "unknown-field": () => {
      const m = anyMethod();
      const v = validRequest(rng, m);
      const number = rng.pick([99, 1000, 536_870_911, rng.range(16, 5000)]);
      const wt = rng.pick([0, 1, 2, 5]);
      const parts = v.frames.map((f) => Buffer.concat([f, fieldOfWireType(rng, number, wt)]));
      // Unknown fields are skipped by every protobuf decoder: the call goes on as if they were absent.
      return {
        method: m,
        path: Paths[m],
        body: frames(parts),
        allowed: [v.expect],
        note: `unknown field ${number} (wire type ${wt})`,
      };
    },
    "frame-too-long": () => {
      const m = anyMethod();
      const v = validRequest(rng, m);
      const last = v.frames.length - 1;
      const extra = rng.range(1, 1000);
      const parts = v.frames.map((f, i) => (i === last ? frame(f, { length: f.length + extra }) : frame(f)));
      // The last message never completes: a unary call has no message at all; a sync call has at most
      // its header and is told what is missing.
      const allowed = unaryish(m) ? [S.UNIMPLEMENTED] : [S.INVALID_ARGUMENT, S.OK];
      return {
        method: m,
        path: Paths[m],
        body: Buffer.concat(parts),
        allowed,
        note: `last frame header claims ${extra} more bytes than sent`,
      };
    },
    "frame-too-short": () => {
      const m = anyMethod();
      const v = validRequest(rng, m);
      const f = v.frames[0] ?? Buffer.alloc(0);
      const short = f.length > 0 ? rng.int(f.length) : 0;
      const body = Buffer.concat([frame(f, { length: short }), ...v.frames.slice(1).map((p) => frame(p))]);
      return {
        method: m,
        path: Paths[m],
        body,
        allowed: anyAnswer,
        note: `frame header says ${short} of ${f.length} bytes`,
      };
    },
    "compressed-flag": () => {
      const m = anyMethod();
      const v = validRequest(rng, m);
      const flag = rng.pick([1, 1, 2, 0x80, 0xff]);
      const body = Buffer.concat(v.frames.map((p) => frame(p, { flag })));
      // Without grpc-encoding the message is read as identity-encoded, flag or not.
      return {
        method: m,
        path: Paths[m],
        body,
        allowed: [v.expect],
        note: `compressed flag ${flag} without grpc-encoding`,
      };
    },
    "multi-frame": () => {
      const m = anyMethod();
      const v = validRequest(rng, m);
      const copies = rng.range(2, 5);
      const parts: Buffer[] = [];
      for (let i = 0; i < copies; i++) parts.push(...v.frames);
      // Unary and server-streaming calls take exactly one message; the sync call reads header + inputs.
      const allowed = unaryish(m) ? [S.UNIMPLEMENTED] : [v.expect];
      return {
        method: m,
        path: Paths[m],
        body: frames(parts),
        allowed,
        note: `${copies} copies of the request`,
      };
    },
    "empty-body": () => {
      const m = anyMethod();
      if (rng.chance(0.5)) {
        // END_STREAM with no message at all.
        return {
          method: m,
          path: Paths[m],
          body: Buffer.alloc(0),
          allowed: unaryish(m) ? [S.UNIMPLEMENTED] : [S.INVALID_ARGUMENT],
          note: "no message",
        };
      }
      // One empty message: every field at its default.
      const expect: Record<Method, status> = {
        createTask: S.INVALID_ARGUMENT,
        getTask: S.NOT_FOUND,
        deleteTask: S.NOT_FOUND,
        getTaskMetrics: S.NOT_FOUND,
        getTaskLogs: S.NOT_FOUND,
        executeTaskSync: S.INVALID_ARGUMENT,
        getAgent: S.NOT_FOUND,
        listAgents: S.OK,
        healthCheck: S.OK,
      };
      return {
        method: m,
        path: Paths[m],
        body: frame(Buffer.alloc(0)),
        allowed: [expect[m]],
        note: "one empty message",
      };
    },
    "claims-oversized": () => {
      const m = anyMethod();
      const length = rng.range(maxMessage + 1, 2 ** 32 - 1);
      return {
        method: m,
        path: Paths[m],
        body: Buffer.concat([frame(rng.bytes(rng.int(64)), { length }).subarray(0, 5 + rng.int(64))]),
        allowed: [S.RESOURCE_EXHAUSTED],
        note: `frame header claims ${length} bytes`,
      };
    },
    "garbage-meta": () => {
      const m = rng.pick(metaMethods);
      const g = garbageMeta(rng);
      const base = { taskType: "fuzz_job", resourceMeta: g.meta, taskCategory: jobCategory };
      const payload =
        m === "getTask"
          ? encode(GetTaskRequest, base)
          : m === "deleteTask"
            ? encode(DeleteTaskRequest, base)
            : m === "getTaskMetrics"
              ? encode(GetTaskMetricsRequest, { ...base, queries: ["q"] })
              : encode(GetTaskLogsRequest, { ...base, lines: 5n });
      return {
        method: m,
        path: Paths[m],
        body: frame(payload),
        allowed: g.expect,
        note: `resource_meta: ${g.note}`,
      };
    },
    "unknown-enum": () => unknownEnum(rng),
    "wrong-type": () => wrongType(rng),
    "deep-nesting": () => deepNesting(rng),
    "missing-fields": () => missingFields(rng),
    "wrong-path": () => {
      const path = rng.pick([
        "/flyteidl.service.AsyncAgentService/Nope",
        "/flyteidl.service.AsyncAgentService/createTask",
        "/flyteidl.service.AsyncAgentService/",
        "/flyteidl.service.AsyncAgentService",
        "/flyteidl.service.NoSuchService/CreateTask",
        "/flyteidl.service.SyncAgentService/CreateTask",
        "/grpc.health.v1.Health/Nope",
        "/",
        `/${rng.word()}/${rng.word()}`,
        `/flyteidl.service.AgentMetadataService/ListAgents/${rng.word()}`,
      ]);
      return {
        method: "other",
        path,
        body: frame(rng.bytes(rng.int(16))),
        allowed: [S.UNIMPLEMENTED],
        note: "unknown method",
      };
    },
    "bad-headers": () => badHeaders(rng, valid),
    valid: () => valid(anyMethod()),
  };
}

function unknownEnum(rng: Rng): Draft {
  const weird = rng.pick([999, -1, 2 ** 31 - 1, -(2 ** 31), 10]);
  switch (rng.int(5)) {
    case 0:
    case 1: {
      // A declared input type with an unknown simple type, blob dimensionality or column type.
      const m = rng.pick(["createTask", "executeTaskSync"] as const);
      const type = rng.pick([
        { simple: weird },
        { blob: { format: "csv", dimensionality: weird } },
        { schema: { columns: [{ name: "c", type: weird }] } },
        { collectionType: { simple: weird } },
        { unionType: { variants: [{ simple: weird }, { simple: Simple.NONE }] } },
      ]);
      const literal = rng.pick([
        prim({ integer: 1n }),
        prim({ stringValue: "x" }),
        scalar({ noneType: {} }),
        { collection: { literals: [prim({ boolean: true })] } },
      ]);
      const template = {
        type: m === "createTask" ? "fuzz_job" : "fuzz_echo",
        interface: { inputs: { variables: { x: { type } } }, outputs: { variables: { x: { type } } } },
        metadata: { runtime: { type: weird, version: "1", flavor: "ts" } },
      };
      const inputs = { literals: { x: literal } };
      const body =
        m === "createTask"
          ? frame(encode(CreateTaskRequest, { template, inputs, outputPrefix: "s3://o" }))
          : frames([
              encode(ExecuteTaskSyncRequest, { header: { template } }),
              encode(ExecuteTaskSyncRequest, { inputs }),
            ]);
      // The server reads inputs leniently; a sync echo of a value its unknown output type cannot hold
      // is a type error in the request.
      return {
        method: m,
        path: Paths[m],
        body,
        allowed: [S.OK, S.INVALID_ARGUMENT],
        note: `enum value ${weird} in a declared type`,
      };
    }
    case 2: {
      const m = rng.pick(metaMethods);
      const version = rng.pick([-1, 999, 2 ** 31 - 1, -(2 ** 31)]);
      const req = {
        taskType: "fuzz_job",
        resourceMeta: jobMeta(),
        taskCategory: { name: "fuzz_job", version },
        queries: [],
        lines: 1n,
      };
      const fns: MessageFns<unknown> = {
        getTask: GetTaskRequest,
        deleteTask: DeleteTaskRequest,
        getTaskMetrics: GetTaskMetricsRequest,
        getTaskLogs: GetTaskLogsRequest,
      }[m] as MessageFns<unknown>;
      return {
        method: m,
        path: Paths[m],
        body: frame(encode(fns, req)),
        allowed: [S.NOT_FOUND],
        note: `task_category version ${version}`,
      };
    }
    case 3: {
      const m = rng.pick(["createTask", "executeTaskSync"] as const);
      const version = rng.pick([-1, 999, -(2 ** 31)]);
      const template = { type: m === "createTask" ? "fuzz_job" : "fuzz_echo", taskTypeVersion: version };
      const body =
        m === "createTask"
          ? frame(encode(CreateTaskRequest, { template }))
          : frames([
              encode(ExecuteTaskSyncRequest, { header: { template } }),
              encode(ExecuteTaskSyncRequest, { inputs: {} }),
            ]);
      return {
        method: m,
        path: Paths[m],
        body,
        allowed: [S.NOT_FOUND],
        note: `task_type_version ${version}`,
      };
    }
    default: {
      // GetTaskLogs with a line count out of any sane range (uint64 on the wire).
      const lines = rng.pick([0n, 18_446_744_073_709_551_615n, 9_007_199_254_740_993n]);
      return {
        method: "getTaskLogs",
        path: Paths.getTaskLogs,
        body: frame(
          encode(GetTaskLogsRequest, {
            resourceMeta: jobMeta(),
            lines,
            token: rng.word(),
            taskCategory: jobCategory,
          }),
        ),
        allowed: [S.OK],
        note: `lines = ${lines}`,
      };
    }
  }
}

/** Inputs that do not match the declared input types. */
function wrongType(rng: Rng): Draft {
  const m = rng.pick(["createTask", "executeTaskSync"] as const);
  const declared = typedValue(rng).type;
  const given = rng.pick([
    typedValue(rng).literal,
    {},
    scalar({}),
    prim({}),
    { offloadedMetadata: { uri: "s3://x", sizeBytes: 10n, inferredType: { simple: Simple.STRING } } },
    scalar({ union: { value: prim({ integer: 3n }), type: { simple: Simple.STRING } } }),
    scalar({ union: {} }),
    scalar({ blob: {} }),
    scalar({ structuredDataset: { uri: "s3://d" } }),
    scalar({ schema: { uri: "s3://s" } }),
    scalar({ error: { failedNodeId: "n", message: "boom" } }),
    { map: { literals: { "": {} } } },
    { collection: { literals: [{}, scalar({ noneType: {} })] } },
    { collection: { literals: [typedValue(rng).literal, typedValue(rng).literal] } },
    // Outside the ranges google.protobuf.Duration and Timestamp allow.
    prim({
      duration: {
        seconds: rng.pick([9_223_372_036_854_775_807n, -9_223_372_036_854_775_808n, 315_576_000_001n]),
        nanos: rng.pick([0, -1, 2_000_000_000]),
      },
    }),
    prim({
      datetime: {
        seconds: rng.pick([9_223_372_036_854_775_807n, -9_223_372_036_854_775_808n, 253_402_300_800n]),
        nanos: rng.pick([0, -1, 2_000_000_000]),
      },
    }),
    prim({ floatValue: rng.pick([Infinity, -Infinity, NaN, 1e308, -1e308, 5e-324]) }),
    prim({
      integer: rng.pick([9_223_372_036_854_775_807n, -9_223_372_036_854_775_808n, 9_007_199_254_740_993n]),
    }),
  ]);
  const name = rng.pick(["x", "", "__proto__", "constructor", "a.b", "🙂"]);
  const template = {
    type: m === "createTask" ? "fuzz_job" : "fuzz_echo",
    interface: {
      inputs: { variables: { [name]: { type: declared } } },
      outputs: { variables: { [name]: { type: declared } } },
    },
  };
  const inputs = { literals: { [name]: given } };
  const body =
    m === "createTask"
      ? frame(encode(CreateTaskRequest, { template, inputs, outputPrefix: "s3://o" }))
      : frames([
          encode(ExecuteTaskSyncRequest, { header: { template } }),
          encode(ExecuteTaskSyncRequest, { inputs }),
        ]);
  return {
    method: m,
    path: Paths[m],
    body,
    allowed: [S.OK, S.INVALID_ARGUMENT],
    note: `input "${name}" of another type than declared (${JSON.stringify(declared)})`,
  };
}

/** Collections, maps or unions nested deep: the server must refuse or answer, not overflow its stack. */
function deepNesting(rng: Rng): Draft {
  const m = rng.pick(["createTask", "executeTaskSync"] as const);
  const depth = rng.pick([1, 8, 20, 30, 50, 500, rng.range(1_000, 5_000), rng.range(5_000, 60_000)]);
  const shape = rng.pick(["collection", "map", "union"] as const);
  // Built as bytes from the inside out, as a list of prefixes joined once at the end: a recursive
  // encoder would overflow, and re-copying the message at every level is quadratic.
  const ld = (field: number, payload: Buffer) =>
    Buffer.concat([varint((field << 3) | 2), varint(payload.length), payload]);
  // Literal{scalar{primitive{integer: 1}}}
  const inner = Buffer.from([0x0a, 0x04, 0x0a, 0x02, 0x08, 0x01]);
  const prefixes: Buffer[] = [];
  let size = inner.length;
  const wrap = (field: number, extra: Buffer = Buffer.alloc(0)) => {
    // field (LEN) around `extra` + what is inside so far
    const p = Buffer.concat([varint((field << 3) | 2), varint(size + extra.length), extra]);
    prefixes.push(p);
    size += p.length;
  };
  const mapKey = ld(1, Buffer.from("k"));
  const valueTag = varint((2 << 3) | 2);
  for (let i = 0; i < depth; i++) {
    if (shape === "collection") {
      wrap(1); // LiteralCollection.literals
      wrap(2); // Literal.collection
    } else if (shape === "map") {
      // LiteralMap entry {key: "k", value: lit}: the value's tag and length follow the key
      const valueHead = Buffer.concat([mapKey, valueTag, varint(size)]);
      prefixes.push(valueHead);
      size += valueHead.length;
      wrap(1); // LiteralMap.literals entry
      wrap(3); // Literal.map
    } else {
      wrap(1); // Union.value
      wrap(9); // Scalar.union
      wrap(1); // Literal.scalar
    }
  }
  const lit = Buffer.concat([...prefixes.reverse(), inner]);
  const literalMap = ld(1, Buffer.concat([ld(1, Buffer.from("x")), ld(2, lit)])); // LiteralMap{literals{x: lit}}
  const template =
    m === "createTask"
      ? encode(CreateTaskRequest, { template: { type: "fuzz_job" }, outputPrefix: "s3://o" })
      : encode(ExecuteTaskSyncRequest, { header: { template: { type: "fuzz_echo" } } });
  // CreateTaskRequest.inputs is field 1; ExecuteTaskSyncRequest.inputs is field 2.
  const body =
    m === "createTask"
      ? frame(Buffer.concat([ld(1, literalMap), template]))
      : frames([template, ld(2, literalMap)]);
  // Too deep to decode is a malformed request (INTERNAL from the decoder, by gRPC's rules) or a
  // refused one (INVALID_ARGUMENT); shallower ones are served.
  return {
    method: m,
    path: Paths[m],
    body,
    allowed: [S.OK, S.INVALID_ARGUMENT, S.INTERNAL, S.RESOURCE_EXHAUSTED],
    note: `${shape} nested ${depth} deep`,
  };
}

function missingFields(rng: Rng): Draft {
  const c = rng.int(12);
  const req = (m: Method, body: Buffer, allowed: readonly status[], note: string): Draft => ({
    method: m,
    path: Paths[m],
    body,
    allowed,
    note,
  });
  switch (c) {
    case 0:
      return req(
        "createTask",
        frame(encode(CreateTaskRequest, { inputs: { literals: {} }, outputPrefix: "s3://o" })),
        [S.INVALID_ARGUMENT],
        "CreateTask without a template",
      );
    case 1:
      return req(
        "createTask",
        frame(encode(CreateTaskRequest, { template: { type: "" } })),
        [S.NOT_FOUND],
        "a template with an empty type",
      );
    case 2: {
      const name = rng.pick([
        rng.word(),
        "FUZZ_JOB",
        "fuzz_job ",
        "fuzz_job_v0",
        "../../etc/passwd",
        "\u0000",
        "🙂".repeat(200),
      ]);
      return req(
        "createTask",
        frame(encode(CreateTaskRequest, { template: { type: name } })),
        [S.NOT_FOUND],
        `unknown task type ${JSON.stringify(name).slice(0, 40)}`,
      );
    }
    case 3: {
      const m = rng.pick(metaMethods);
      const fns = {
        getTask: GetTaskRequest,
        deleteTask: DeleteTaskRequest,
        getTaskMetrics: GetTaskMetricsRequest,
        getTaskLogs: GetTaskLogsRequest,
      }[m] as MessageFns<unknown>;
      const which = rng.int(3);
      const body =
        which === 0
          ? encode(fns, { resourceMeta: jobMeta() })
          : which === 1
            ? encode(fns, { resourceMeta: jobMeta(), taskCategory: { name: "", version: 0 } })
            : encode(fns, { resourceMeta: jobMeta(), taskCategory: { name: rng.word(), version: 0 } });
      return req(
        m,
        frame(body),
        [S.NOT_FOUND],
        ["no task_category nor task_type", "an empty category name", "an unknown category"][which] ?? "",
      );
    }
    case 4: {
      // The deprecated task_type alone still routes (version 0).
      const m = rng.pick(metaMethods);
      const fns = {
        getTask: GetTaskRequest,
        deleteTask: DeleteTaskRequest,
        getTaskMetrics: GetTaskMetricsRequest,
        getTaskLogs: GetTaskLogsRequest,
      }[m] as MessageFns<unknown>;
      return req(
        m,
        frame(encode(fns, { taskType: "fuzz_job", resourceMeta: jobMeta() })),
        [S.OK],
        "only the deprecated task_type",
      );
    }
    case 5: {
      const m = rng.pick(metaMethods);
      const fns = {
        getTask: GetTaskRequest,
        deleteTask: DeleteTaskRequest,
        getTaskMetrics: GetTaskMetricsRequest,
        getTaskLogs: GetTaskLogsRequest,
      }[m] as MessageFns<unknown>;
      return req(
        m,
        frame(encode(fns, { taskCategory: jobCategory })),
        [S.INVALID_ARGUMENT],
        "no resource_meta",
      );
    }
    case 6: {
      const m = rng.pick(metaMethods);
      const fns = {
        getTask: GetTaskRequest,
        deleteTask: DeleteTaskRequest,
        getTaskMetrics: GetTaskMetricsRequest,
        getTaskLogs: GetTaskLogsRequest,
      }[m] as MessageFns<unknown>;
      return req(
        m,
        frame(encode(fns, { taskCategory: { name: "fuzz_echo", version: 0 }, resourceMeta: jobMeta() })),
        [S.FAILED_PRECONDITION],
        "the sync agent's category on an async call",
      );
    }
    case 7:
      return req(
        "executeTaskSync",
        frames([
          encode(ExecuteTaskSyncRequest, { header: { template: { type: "fuzz_job" } } }),
          encode(ExecuteTaskSyncRequest, { inputs: {} }),
        ]),
        [S.FAILED_PRECONDITION],
        "the async agent's category on ExecuteTaskSync",
      );
    case 8:
      return req(
        "executeTaskSync",
        frames([encode(ExecuteTaskSyncRequest, { inputs: { literals: {} } })]),
        [S.INVALID_ARGUMENT],
        "inputs without a header",
      );
    case 9:
      return req(
        "executeTaskSync",
        frames([
          encode(ExecuteTaskSyncRequest, { inputs: { literals: {} } }),
          encode(ExecuteTaskSyncRequest, { header: { template: { type: "fuzz_echo" } } }),
        ]),
        // The server takes the header wherever it is; refusing the order would be right too.
        [S.OK, S.INVALID_ARGUMENT],
        "inputs before the header",
      );
    case 10:
      return req(
        "getAgent",
        frame(
          encode(GetAgentRequest, { name: rng.pick(["", rng.word(), "fuzzjobagent", "%s%n", "\u0000"]) }),
        ),
        [S.NOT_FOUND],
        "an unknown agent name",
      );
    default:
      return req(
        "healthCheck",
        frame(healthRequest(rng.pick(["nope", "flyteidl.service.AsyncAgentService.", rng.word()]))),
        [S.NOT_FOUND],
        "health of an unknown service",
      );
  }
}

const gzipBomb = gzipSync(Buffer.alloc(maxMessage + 1024 * 1024));

function badHeaders(rng: Rng, valid: (m: Method, note?: string) => Draft): Draft {
  const m = rng.pick(methods);
  const v = valid(m);
  switch (rng.int(6)) {
    case 0: {
      const timeout = rng.pick(["abc", "1", "123456789S", "-1S", "1x", "S", "99999999999999999999H", "1.5S"]);
      // grpc-js rejects a malformed grpc-timeout with INTERNAL (it is a protocol error, not an
      // argument of the method).
      return {
        ...v,
        headers: { "grpc-timeout": timeout },
        allowed: [S.INTERNAL, ...v.allowed],
        note: `grpc-timeout: ${timeout}`,
      };
    }
    case 1:
      return {
        ...v,
        headers: { "grpc-timeout": "1n" },
        allowed: [S.DEADLINE_EXCEEDED, ...v.allowed],
        note: "a 1 ns deadline",
      };
    case 2: {
      const enc = rng.pick(["br", "snappy", "x-unknown", "GZIP"]);
      return {
        ...v,
        body: reflag(v.body),
        headers: { "grpc-encoding": enc },
        allowed: [S.UNIMPLEMENTED],
        note: `compressed with unsupported encoding ${enc}`,
      };
    }
    case 3:
      return {
        ...v,
        body: reflag(v.body),
        headers: { "grpc-encoding": "gzip" },
        allowed: [S.INTERNAL],
        note: "gzip flag on bytes that are not gzip",
      };
    case 4:
      return {
        ...v,
        body: frame(gzipBomb, { flag: 1 }),
        headers: { "grpc-encoding": rng.pick(["gzip", "gzip"]) },
        allowed: [S.RESOURCE_EXHAUSTED],
        note: `gzip of ${maxMessage + 1024 * 1024} zero bytes`,
      };
    default: {
      const gz = (p: Buffer) => frame(gzipSync(p), { flag: 1 });
      const payloads = splitFrames(v.body);
      return {
        ...v,
        body: Buffer.concat(payloads.map(gz)),
        headers: { "grpc-encoding": "gzip" },
        note: "a gzip-compressed request",
      };
    }
  }
}

/** Sets the compressed flag on every frame of a body made of whole frames. */
function reflag(body: Buffer): Buffer {
  return Buffer.concat(splitFrames(body).map((p) => frame(p, { flag: 1 })));
}

function splitFrames(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 5 <= body.length) {
    const len = body.readUInt32BE(i + 1);
    out.push(body.subarray(i + 5, i + 5 + len));
    i += 5 + len;
  }
  return out;
}

/** Relative weights of the kinds; "oversized" is placed by index instead (it sends > 4 MiB). */
const weights: Record<Exclude<Kind, "oversized">, number> = {
  "random-bytes": 10,
  truncated: 8,
  "bit-flip": 10,
  "wrong-wire-type": 8,
  "unknown-field": 4,
  "frame-too-long": 4,
  "frame-too-short": 4,
  "compressed-flag": 3,
  "multi-frame": 3,
  "empty-body": 3,
  "claims-oversized": 2,
  "garbage-meta": 10,
  "unknown-enum": 6,
  "wrong-type": 8,
  "deep-nesting": 2,
  "missing-fields": 8,
  "wrong-path": 3,
  "bad-headers": 4,
  valid: 4,
};
const totalWeight = Object.values(weights).reduce((a, b) => a + b, 0);

/** One real message over 4 MiB every this many cases. */
export const oversizedEvery = 1000;

/** Case `index` of the run with `seed`. */
export function generateCase(seed: number, index: number): FuzzCase {
  const rng = new Rng((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0);
  if (index % oversizedEvery === oversizedEvery / 2) {
    const m = rng.pick(["createTask", "executeTaskSync", "getTask"] as const);
    const big = "x".repeat(maxMessage + rng.range(1, 512 * 1024));
    const payload =
      m === "getTask"
        ? encode(GetTaskRequest, { taskCategory: jobCategory, resourceMeta: Buffer.from(big) })
        : m === "createTask"
          ? encode(CreateTaskRequest, {
              template: { type: "fuzz_job" },
              inputs: { literals: { s: prim({ stringValue: big }) } },
            })
          : encode(ExecuteTaskSyncRequest, {
              header: { template: { type: "fuzz_echo" }, outputPrefix: big },
            });
    return {
      index,
      kind: "oversized",
      method: m,
      path: Paths[m],
      body: frame(payload),
      headers: {},
      allowed: [S.RESOURCE_EXHAUSTED],
      note: `a ${payload.length}-byte message`,
    };
  }
  let r = rng.int(totalWeight);
  let kind: Exclude<Kind, "oversized"> = "valid";
  for (const [k, w] of Object.entries(weights) as [Exclude<Kind, "oversized">, number][]) {
    if (r < w) {
      kind = k;
      break;
    }
    r -= w;
  }
  const draft = generators(rng)[kind]();
  return { index, kind, headers: {}, ...draft };
}
