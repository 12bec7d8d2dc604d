import {
  type handleBidiStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  Metadata,
  type sendUnaryData,
  type ServerDuplexStream,
  status,
} from "@grpc/grpc-js";
import type { Logger } from "../core/context.js";
import type { AgentRegistry } from "../core/registry.js";
import { performance } from "node:perf_hooks";
import { type CallInfo, CallScope, type Protocol, type WatchedCall } from "./call-scope.js";
import { CallAbortedError, type Operation, toWireError, type WireError } from "./errors.js";

/**
 * Observes every call; the server's metrics and limits hook in here. Hooks run on the hot path: keep
 * them cheap and synchronous. `taskType` is the caller's task type when an agent serves it (`""` for
 * ListAgents/GetAgent), and {@link UNSERVED_TASK_TYPE} for every other one: the caller picks the
 * name, so passing it through would let any client grow a metric label without bound. `protocol`
 * says which protocol the call came in on ({@link CallInfo.protocol}).
 */
export interface CallHooks {
  /**
   * Called when a call starts, with the agent calls already in flight; return false to refuse it
   * (RESOURCE_EXHAUSTED).
   */
  onStart?(op: Operation, taskType: string, inFlight: number, protocol: Protocol): boolean;
  /** Called once for every call `onStart` accepted, with its gRPC status code (undefined for OK). */
  onEnd?(
    op: Operation,
    taskType: string,
    seconds: number,
    errorCode: status | undefined,
    protocol: Protocol,
  ): void;
  /** Called instead of `onEnd` for a call `onStart` refused. */
  onRejected?(op: Operation, taskType: string, protocol: Protocol): void;
  /** Called with the encoded size of a call's task inputs (CreateTask, ExecuteTaskSync). */
  onInputs?(taskType: string, bytes: number, protocol: Protocol): void;
}

/** The task type hooks see for a call whose task type no agent serves. */
export const UNSERVED_TASK_TYPE = "unknown";

/**
 * The label hooks see for a task type: itself when an agent in `registry` serves it (at any
 * version), else {@link UNSERVED_TASK_TYPE}. Served names are remembered, so the common case is one
 * set lookup; names no agent serves are not (the caller picks them, the set would grow without bound).
 */
function taskTypeLabeler(registry: AgentRegistry): (taskType: string) => string {
  const served = new Set<string>([""]);
  return (taskType) => {
    if (served.has(taskType)) return taskType;
    if (registry.agents().some((a) => a.taskCategory.name === taskType)) {
      served.add(taskType);
      return taskType;
    }
    return UNSERVED_TASK_TYPE;
  };
}

/** Options of {@link createCallPipeline}. */
export interface CallPipelineOptions {
  /** The agents served: hooks see a task type no agent serves as {@link UNSERVED_TASK_TYPE}. */
  readonly registry: AgentRegistry;
  readonly logger: Logger;
  readonly hooks?: CallHooks;
}

/**
 * Sends one response message of a streaming call; resolves once grpc-js has handed it to HTTP/2.
 * Await it before sending the next: a message only leaves while the call may still send.
 * @throws CallAbortedError when the call's deadline has passed or it was cancelled or answered.
 */
export type Send<Res> = (message: Res) => Promise<void>;

/**
 * The one path every agent call takes, whatever its gRPC shape and protocol: start (or refuse when a
 * hook says so), a {@link CallScope} for its deadline, cancellation and logger, the work, then one
 * answer (value or error status, mapped by `toWireError`), the end hook and the scope's disposal,
 * exactly once. Service modules (one per protobuf service) describe their methods with it.
 */
export interface CallPipeline {
  /** A unary method: `work`'s value is the response. */
  unary<Req, Res>(
    describe: (request: Req) => CallInfo,
    work: (request: Req, scope: CallScope) => Promise<Res>,
  ): handleUnaryCall<Req, Res>;
  /** A server-streaming method: `work` sends the responses; the call ends when it settles. */
  serverStream<Req, Res>(
    describe: (request: Req) => CallInfo,
    work: (request: Req, scope: CallScope, send: Send<Res>) => Promise<void>,
  ): handleServerStreamingCall<Req, Res>;
  /**
   * A bidirectional method whose requests arrive before any answer (as ExecuteTaskSync's header and
   * inputs): messages are collected until `ready` says so or the client half-closes, then the call
   * runs as a server stream over them.
   */
  bidi<Req, Res>(
    ready: (messages: readonly Req[]) => boolean,
    describe: (messages: readonly Req[]) => CallInfo,
    work: (messages: readonly Req[], scope: CallScope, send: Send<Res>) => Promise<void>,
  ): handleBidiStreamingCall<Req, Res>;
  /** Reports the size of a call's task inputs to the hooks; `size` runs only when a hook listens. */
  inputs(scope: CallScope, size: () => number): void;
  /** Agent calls currently running (health checks and reflection are not counted). */
  readonly inFlight: () => number;
  /** Resolves when no agent call is running. */
  readonly idle: () => Promise<void>;
  /**
   * Answers every call still running with UNAVAILABLE (and fires its agent's signal): for the end of
   * a drain's grace period, so clients get a status rather than a dropped connection.
   */
  readonly abortAll: () => void;
}

const refusedDetails = "too many concurrent requests; retry later";

/** How one call is answered: the only part that differs between unary and streaming calls. */
interface Answer<Res> {
  ok(value: Res): void;
  fail(wire: WireError): void;
}

/** Builds the call pipeline the service modules of a server share. */
export function createCallPipeline(options: CallPipelineOptions): CallPipeline {
  const { logger } = options;
  const { hooks } = options;
  const label = taskTypeLabeler(options.registry);
  // Agent calls in flight, so a drain can tell when only long-lived streams (health watches) remain.
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];
  const leave = (): void => {
    if (--inFlight === 0 && idleWaiters.length > 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };
  // Calls not yet answered, so a drain whose grace period ends can answer them instead of dropping them.
  const live = new Set<CallScope>();

  /**
   * Runs one call: the answer goes out when `work` settles or, if sooner, when the deadline passes,
   * the client cancels or a drain gives up on it.
   */
  function runCall<Res>(
    call: WatchedCall,
    info: CallInfo,
    answer: Answer<Res>,
    work: (scope: CallScope) => Promise<Res>,
  ): void {
    const { op } = info;
    const protocol = info.protocol ?? "flyte1";
    // Computed once per call: every hook of the call sees the same label.
    const taskType = hooks ? label(info.taskType) : info.taskType;
    const started = performance.now();
    if (hooks?.onStart && !hooks.onStart(op, taskType, inFlight, protocol)) {
      hooks.onRejected?.(op, taskType, protocol);
      answer.fail({ code: status.RESOURCE_EXHAUSTED, details: refusedDetails });
      return;
    }
    inFlight++;
    const scope = new CallScope(call, logger, info, live);
    scope.taskTypeLabel = taskType;
    scope.protocol = protocol;
    let answered = false;
    const fail = (err: unknown): void => {
      if (answered) return;
      answered = true;
      try {
        const wire = toWireError(err, op, info.taskType);
        logFailure(scope.logger, op, err, wire.code);
        hooks?.onEnd?.(op, taskType, seconds(started), wire.code, protocol);
        answer.fail(wire);
      } finally {
        scope.dispose();
        leave();
      }
    };
    const succeed = (value: Res): void => {
      if (answered) return;
      answered = true;
      try {
        hooks?.onEnd?.(op, taskType, seconds(started), undefined, protocol);
        answer.ok(value);
      } finally {
        scope.dispose();
        leave();
      }
    };
    scope.onAbort = fail;
    if (scope.closed) {
      // The deadline passed before the call could start (a busy server, a tiny grpc-timeout): the
      // caller has given up, so the agent must not act on it (a create would start an orphan job).
      scope.abort("deadline");
      return;
    }
    // Service modules pass async functions: they report every failure through their promise.
    work(scope).then(succeed, fail);
  }

  const unaryAnswer = <Res>(callback: sendUnaryData<Res>): Answer<Res> => ({
    ok: (value) => callback(null, value),
    fail: (wire) =>
      callback({ ...wire, name: status[wire.code], message: wire.details, metadata: new Metadata() }),
  });

  const streamAnswer = (call: StreamingCall): Answer<void> => ({
    ok: () => call.end(),
    fail: (wire) => failStream(call, wire),
  });

  /**
   * One message at a time: grpc-js's stream queues a write made while another is in flight and hands
   * it to HTTP/2 later, possibly after grpc-js's own deadline status has begun (see
   * {@link CallScope.checkSendable}); awaiting each write keeps the check next to the write.
   */
  const sender =
    <Res>(
      call: { write(message: Res, callback: (err?: Error | null) => void): boolean },
      scope: CallScope,
    ): Send<Res> =>
    (message) => {
      scope.checkSendable();
      return scope.race(
        new Promise<void>((resolve, reject) => {
          call.write(message, (err) => (err ? reject(err) : resolve()));
        }),
      );
    };

  return {
    unary: (describe, work) => (call, callback) => {
      const request = call.request;
      runCall(call, describe(request), unaryAnswer(callback), (scope) => work(request, scope));
    },

    serverStream: (describe, work) => (call) => {
      const request = call.request;
      runCall(call, describe(request), streamAnswer(call), (scope) =>
        work(request, scope, sender(call, scope)),
      );
    },

    bidi: (ready, describe, work) => (call) => {
      void collect(call, ready).then(
        (messages) =>
          runCall(call, describe(messages), streamAnswer(call), (scope) =>
            work(messages, scope, sender(call, scope)),
          ),
        (err: unknown) => {
          // The call ended before its requests arrived: no agent ran, so no hooks either.
          const wire = toWireError(err, "do", "");
          logFailure(logger, "do", err, wire.code);
          failStream(call, wire);
        },
      );
    },

    inputs: (scope, size) => {
      if (hooks?.onInputs) hooks.onInputs(scope.taskTypeLabel, size(), scope.protocol);
    },
    inFlight: () => inFlight,
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve))),
    abortAll: () => {
      for (const scope of [...live]) scope.abort("shutdown");
    },
  };
}

/** What the pipeline uses of a grpc-js server-streaming or bidi call to answer it. */
interface StreamingCall {
  end(): void;
  emit(event: "error", err: Error): boolean;
}

/**
 * Collects a bidi call's requests until `ready` says they are all there or the client half-closes;
 * rejects when the client goes away first.
 */
function collect<Req>(
  call: ServerDuplexStream<Req, unknown>,
  ready: (messages: readonly Req[]) => boolean,
): Promise<Req[]> {
  const messages: Req[] = [];
  return new Promise<Req[]>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      fn();
    };
    call.on("data", (m: Req) => {
      messages.push(m);
      if (ready(messages)) settle(() => resolve(messages));
    });
    call.on("end", () => settle(() => resolve(messages)));
    // Our own error status also arrives here, after the messages were collected: then it is ignored.
    call.on("error", (err: Error) => settle(() => reject(err)));
    // A client that goes away before sending its requests must not leave this call waiting.
    call.on("cancelled", () => settle(() => reject(new CallAbortedError("cancelled"))));
  });
}

/**
 * Ends a streaming call with an error status. grpc-js sends the status of an "error" event on the
 * stream; `destroy(err)` would drop it and leave the client waiting.
 */
function failStream(call: { emit(event: "error", err: Error): boolean }, wire: WireError): void {
  call.emit("error", Object.assign(new Error(wire.details), { code: wire.code, details: wire.details }));
}

/** Seconds since `started` (a `performance.now()`): a double, where `hrtime.bigint()` allocates. */
function seconds(started: number): number {
  return (performance.now() - started) / 1e3;
}

function logFailure(logger: Logger, op: Operation, err: unknown, code: status): void {
  if (code === status.INTERNAL) logger.error({ err, grpc_code: status[code] }, `${op} failed`);
  else
    logger.warn(
      { grpc_code: status[code], reason: err instanceof Error ? err.message : String(err) },
      `${op} failed`,
    );
}
