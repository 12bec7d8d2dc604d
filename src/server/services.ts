import {
  type handleBidiStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  Metadata,
  type ServerDuplexStream,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type ServerWritableStream,
  status,
} from "@grpc/grpc-js";
import type {
  CreateTaskRequest,
  CreateTaskResponse,
  DeleteTaskRequest,
  DeleteTaskResponse,
  ExecuteTaskSyncRequest,
  ExecuteTaskSyncResponse,
  GetAgentRequest,
  GetAgentResponse,
  GetTaskLogsRequest,
  GetTaskLogsResponse,
  GetTaskMetricsRequest,
  GetTaskMetricsResponse,
  GetTaskRequest,
  GetTaskResponse,
  ListAgentsRequest,
  ListAgentsResponse,
  TaskCategory as ProtoTaskCategory,
  TaskExecutionMetadata,
  Resource as ProtoResource,
} from "../gen/flyteidl/admin/agent.js";
import type { TaskTemplate } from "../gen/flyteidl/core/tasks.js";
import { type LiteralMap, LiteralMap as LiteralMapCodec } from "../gen/flyteidl/core/literals.js";
import { type Agent, type AsyncAgentBase, isAsyncAgent, isSyncAgent } from "../core/agent.js";
import type { AgentContext, Logger, TaskRequest } from "../core/context.js";
import { ErrorCode, FlyteAgentError } from "../core/errors.js";
import type { AgentRegistry } from "../core/registry.js";
import { type Resource, toProtoResource } from "../core/resource.js";
import { formatCategory, type TaskCategory } from "../core/task-category.js";
import { CallAbortedError, type Operation, toWireError } from "./errors.js";
import { decodeInputs, encodeOutputs } from "../types/task-literals.js";
import { resourceFindings } from "../propeller/findings.js";
import { emptyResource, type CallPath } from "../propeller/status.js";

/**
 * Observes every call; the server's metrics and limits hook in here. Hooks run on the hot path: keep
 * them cheap and synchronous. `taskType` is the caller's task type when an agent serves it (`""` for
 * ListAgents/GetAgent), and {@link UNSERVED_TASK_TYPE} for every other one: the caller picks the
 * name, so passing it through would let any client grow a metric label without bound.
 */
export interface CallHooks {
  /** Called when a call starts; return false to refuse it (RESOURCE_EXHAUSTED). */
  onStart?(op: Operation, taskType: string): boolean;
  /** Called once for every call `onStart` accepted, with its gRPC status code (undefined for OK). */
  onEnd?(op: Operation, taskType: string, seconds: number, errorCode: status | undefined): void;
  /** Called instead of `onEnd` for a call `onStart` refused. */
  onRejected?(op: Operation, taskType: string): void;
  onInputs?(taskType: string, bytes: number): void;
}

/** The task type hooks see for a call whose task type no agent serves. */
export const UNSERVED_TASK_TYPE = "unknown";

/** `hooks` with every task type no agent in `registry` serves (at any version) reported as one. */
function boundedHooks(hooks: CallHooks, registry: AgentRegistry): CallHooks {
  const label = (taskType: string): string =>
    taskType === "" ||
    registry.has(taskType, 0) ||
    registry.agents().some((a) => a.taskCategory.name === taskType)
      ? taskType
      : UNSERVED_TASK_TYPE;
  return {
    ...(hooks.onStart ? { onStart: (op, t) => hooks.onStart!(op, label(t)) } : {}),
    ...(hooks.onEnd ? { onEnd: (op, t, sec, code) => hooks.onEnd!(op, label(t), sec, code) } : {}),
    ...(hooks.onRejected ? { onRejected: (op, t) => hooks.onRejected!(op, label(t)) } : {}),
    ...(hooks.onInputs ? { onInputs: (t, bytes) => hooks.onInputs!(label(t), bytes) } : {}),
  };
}

/** What the service handlers need from the server. */
export interface ServiceOptions {
  readonly registry: AgentRegistry;
  readonly logger: Logger;
  readonly hooks?: CallHooks;
}

function categoryOf(category: ProtoTaskCategory | undefined, taskType: string): TaskCategory {
  // task_category wins when its name is set; the deprecated task_type means version 0.
  return category && category.name
    ? { name: category.name, version: category.version }
    : { name: taskType, version: 0 };
}

function executionIdOf(meta: TaskExecutionMetadata | undefined): string | undefined {
  const id = meta?.taskExecutionId;
  if (!id) return undefined;
  const node = id.nodeExecutionId;
  const exec = node?.executionId;
  return [exec?.project, exec?.domain, exec?.name, node?.nodeId, id.retryAttempt]
    .filter((p) => p !== undefined && p !== "")
    .join("/");
}

/**
 * A logger that creates its pino child (with the call's bindings) only when something is logged:
 * most GetTask calls log nothing, and a child per call is measurable at tens of thousands of calls/s.
 */
function lazyChild(parent: Logger, bindings: () => Record<string, unknown>): Logger {
  let child: Logger | undefined;
  const get = (): Logger => (child ??= parent.child(bindings()));
  const forward =
    (level: "debug" | "info" | "warn" | "error") =>
    (obj: unknown, msg?: string): void => {
      if (msg === undefined) get()[level](obj);
      else get()[level](obj, msg);
    };
  return {
    debug: forward("debug"),
    info: forward("info"),
    warn: forward("warn"),
    error: forward("error"),
    child: (b) => get().child(b),
  };
}

type AbortReason = CallAbortedError["reason"];

/**
 * One call's deadline, cancellation, logger and agent context. Everything a call may not need is
 * made on first use: the AbortController when the agent reads `signal`, the logger when something
 * logs. Only a call with a deadline gets a timer.
 */
class CallScope {
  readonly context: AgentContext;
  /** Called once when the call is aborted while running (set by whoever waits for the agent). */
  onAbort: ((err: CallAbortedError) => void) | undefined;
  #logger: Logger | undefined;
  #controller: AbortController | undefined;
  #aborted: CallAbortedError | undefined;
  // grpc-js emits "cancelled" after every answered call too; only a signal already handed out hears it.
  #lateReason: AbortReason | undefined;
  #timer: NodeJS.Timeout | undefined;
  #done = false;

  constructor(
    call: { getDeadline(): Date | number; on(event: "cancelled", fn: () => void): unknown },
    private readonly parentLogger: Logger,
    private readonly op: Operation,
    private readonly taskType: string,
    outputPrefix: string,
    private readonly executionId: string | undefined,
    private readonly live: Set<CallScope>,
  ) {
    live.add(this);
    const raw = call.getDeadline();
    const deadlineMs = raw instanceof Date ? raw.getTime() : raw;
    const hasDeadline = Number.isFinite(deadlineMs);
    if (hasDeadline) {
      this.#timer = setTimeout(() => this.abort("deadline"), Math.max(0, deadlineMs - Date.now()));
    }
    call.on("cancelled", () => this.abort("cancelled"));
    // Own enumerable getters, so an agent spreading or destructuring its context still gets them.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const scope = this;
    this.context = hasDeadline
      ? {
          get signal() {
            return scope.signal;
          },
          get logger() {
            return scope.logger;
          },
          outputPrefix,
          deadline: new Date(deadlineMs),
        }
      : {
          get signal() {
            return scope.signal;
          },
          get logger() {
            return scope.logger;
          },
          outputPrefix,
        };
  }

  get logger(): Logger {
    return (this.#logger ??= lazyChild(this.parentLogger, () =>
      this.executionId
        ? { op: this.op, task_type: this.taskType, task_execution_id: this.executionId }
        : { op: this.op, task_type: this.taskType },
    ));
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      const reason = this.#aborted ?? (this.#lateReason && new CallAbortedError(this.#lateReason));
      if (reason) this.#controller.abort(reason);
    }
    return this.#controller.signal;
  }

  abort(reason: AbortReason): void {
    if (this.#aborted || this.#lateReason) return;
    if (this.#done) {
      // The call was answered: nobody waits for it any more, so no error is made unless the agent
      // holds the signal.
      this.#lateReason = reason;
      this.#controller?.abort(new CallAbortedError(reason));
      return;
    }
    const err = new CallAbortedError(reason);
    this.#aborted = err;
    this.#controller?.abort(err);
    this.onAbort?.(err);
  }

  /** Settles as `work` does, or rejects as soon as the call is aborted. */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.#aborted) {
      work.catch(() => {});
      return Promise.reject(this.#aborted);
    }
    return new Promise<T>((resolve, reject) => {
      this.onAbort = reject;
      work.then(resolve, reject);
    });
  }

  /** The call has been answered. */
  dispose(): void {
    this.live.delete(this);
    this.#done = true;
    this.onAbort = undefined;
    if (this.#timer) clearTimeout(this.#timer);
  }
}

const refusedDetails = "too many concurrent requests; retry later";

function refusedError(): Error & { code: status; details: string } {
  return Object.assign(new Error(refusedDetails), {
    code: status.RESOURCE_EXHAUSTED,
    details: refusedDetails,
  });
}

/** Builds the handlers of the three agent services over a registry. */
export function createServiceHandlers(options: ServiceOptions) {
  const { registry } = options;
  const hooks = options.hooks && boundedHooks(options.hooks, registry);
  // Agent calls in flight, so a drain can tell when only long-lived streams (health watches) remain.
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];
  const enter = (): void => {
    inFlight++;
  };
  const leave = (): void => {
    if (--inFlight === 0 && idleWaiters.length > 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };
  const idle = (): Promise<void> =>
    inFlight === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve));
  // Calls not yet answered, so a drain whose grace period ends can answer them instead of dropping them.
  const live = new Set<CallScope>();

  const scope = (
    call: { getDeadline(): Date | number; on(event: "cancelled", fn: () => void): unknown },
    op: Operation,
    taskType: string,
    outputPrefix: string,
    executionId: string | undefined,
  ): CallScope => new CallScope(call, options.logger, op, taskType, outputPrefix, executionId, live);

  /**
   * Runs one unary operation with deadline, error mapping, logging and hooks. The call is answered
   * when `work` settles or, if sooner, when the deadline passes or the client cancels.
   */
  function unary<Res>(
    call: ServerUnaryCall<unknown, Res>,
    callback: (err: ServerErrorResponse | null, value?: Res) => void,
    op: Operation,
    taskType: string,
    outputPrefix: string,
    executionId: string | undefined,
    work: (s: CallScope) => Promise<Res>,
  ): void {
    const started = process.hrtime.bigint();
    if (hooks?.onStart && !hooks.onStart(op, taskType)) {
      hooks.onRejected?.(op, taskType);
      callback({
        code: status.RESOURCE_EXHAUSTED,
        details: refusedDetails,
        name: "ResourceExhausted",
        message: refusedDetails,
        metadata: new Metadata(),
      });
      return;
    }
    enter();
    const s = scope(call, op, taskType, outputPrefix, executionId);
    let answered = false;
    const fail = (err: unknown): void => {
      if (answered) return;
      answered = true;
      try {
        const wire = toWireError(err, op, taskType);
        logFailure(s.logger, op, err, wire.code);
        hooks?.onEnd?.(op, taskType, seconds(started), wire.code);
        callback({ ...wire, name: status[wire.code], message: wire.details, metadata: new Metadata() });
      } finally {
        s.dispose();
        leave();
      }
    };
    const succeed = (value: Res): void => {
      if (answered) return;
      answered = true;
      try {
        hooks?.onEnd?.(op, taskType, seconds(started), undefined);
        callback(null, value);
      } finally {
        s.dispose();
        leave();
      }
    };
    s.onAbort = fail;
    // `work` is an async function: it reports every failure through its promise.
    work(s).then(succeed, fail);
  }

  function asyncAgent(category: TaskCategory): AsyncAgentBase<any> {
    const agent = registry.getAgent(category.name, category.version);
    if (!isAsyncAgent(agent)) {
      throw new FlyteAgentError(
        ErrorCode.WRONG_AGENT_KIND,
        `${formatCategory(category)} is served by the sync agent ${agent.name}: call ExecuteTaskSync instead`,
      );
    }
    return agent;
  }

  function decodeMeta(agent: AsyncAgentBase<any>, bytes: Buffer): unknown {
    return agent.codec.decode(bytes);
  }

  function taskRequest(
    s: CallScope,
    template: TaskTemplate,
    inputs: LiteralMap | undefined,
    metadata: TaskExecutionMetadata | undefined,
  ): TaskRequest {
    const context = s.context;
    return {
      get signal() {
        return context.signal;
      },
      get logger() {
        return context.logger;
      },
      outputPrefix: context.outputPrefix,
      ...(context.deadline ? { deadline: context.deadline } : {}),
      taskTemplate: template,
      inputs: decodeInputs(template, inputs),
      inputLiterals: inputs,
      taskExecutionMetadata: metadata,
    };
  }

  function checkResource(s: CallScope, agent: Agent, resource: Resource, path: CallPath): void {
    if (resource === undefined || resource === null || typeof resource !== "object") {
      throw new FlyteAgentError(ErrorCode.AGENT_FAILURE, `agent ${agent.name} returned no Resource`);
    }
    // What FlytePropeller drops or misreads in this answer (propeller/findings.ts).
    const wire = {
      ...emptyResource(),
      phase: resource.phase ?? 0,
      message: resource.message ?? "",
      ...(resource.agentError ? { agentError: { code: resource.agentError.code, kind: 0, origin: 0 } } : {}),
    } as ProtoResource;
    for (const finding of resourceFindings(wire, path)) {
      s.logger[finding.rule === "phase-unset" ? "error" : "warn"](
        { agent: agent.name, rule: finding.rule },
        finding.message,
      );
    }
  }

  function toResource(agent: Agent, resource: Resource, template: TaskTemplate | undefined): ProtoResource {
    // An unset phase is logged by checkResource; it still goes on the wire as UNDEFINED (0).
    return toProtoResource(resource, (values) => encodeOutputs(values, agent.outputTypes, template));
  }

  const createTask: handleUnaryCall<CreateTaskRequest, CreateTaskResponse> = (call, callback) => {
    const req = call.request;
    const template = req.template;
    const taskType = template?.type ?? "";
    unary(
      call,
      callback,
      "create",
      taskType,
      req.outputPrefix,
      executionIdOf(req.taskExecutionMetadata),
      async (s) => {
        if (!template)
          throw new FlyteAgentError(ErrorCode.INVALID_TASK_TEMPLATE, "CreateTaskRequest has no template");
        hooks?.onInputs?.(taskType, req.inputs ? byteLength(req.inputs) : 0);
        const agent = asyncAgent({ name: template.type, version: template.taskTypeVersion });
        const meta = await agent.create(taskRequest(s, template, req.inputs, req.taskExecutionMetadata));
        const resourceMeta = Buffer.from(agent.codec.encode(meta));
        s.logger.info({ resource_meta_bytes: resourceMeta.length }, "task created");
        return { resourceMeta };
      },
    );
  };

  const getTask: handleUnaryCall<GetTaskRequest, GetTaskResponse> = (call, callback) => {
    const req = call.request;
    const category = categoryOf(req.taskCategory, req.taskType);
    unary(call, callback, "get", category.name, req.outputPrefix, undefined, async (s) => {
      const agent = asyncAgent(category);
      const meta = decodeMeta(agent, req.resourceMeta);
      const resource = await agent.get(meta, s.context);
      checkResource(s, agent, resource, "async");
      return { resource: toResource(agent, resource, undefined) };
    });
  };

  const deleteTask: handleUnaryCall<DeleteTaskRequest, DeleteTaskResponse> = (call, callback) => {
    const req = call.request;
    const category = categoryOf(req.taskCategory, req.taskType);
    unary(call, callback, "delete", category.name, "", undefined, async (s) => {
      const agent = asyncAgent(category);
      await agent.delete(decodeMeta(agent, req.resourceMeta), s.context);
      s.logger.info("task deleted");
      return {};
    });
  };

  const getTaskMetrics: handleUnaryCall<GetTaskMetricsRequest, GetTaskMetricsResponse> = (call, callback) => {
    const req = call.request;
    const category = categoryOf(req.taskCategory, req.taskType);
    unary(call, callback, "metrics", category.name, "", undefined, async (s) => {
      const agent = asyncAgent(category);
      if (!agent.getMetrics) {
        throw new FlyteAgentError(
          ErrorCode.UNIMPLEMENTED,
          `agent ${agent.name} does not implement getMetrics`,
        );
      }
      const toDate = (t: { seconds: bigint; nanos: number } | undefined) =>
        t ? new Date(Number(t.seconds) * 1000 + t.nanos / 1e6) : undefined;
      const step = req.step;
      const results = await agent.getMetrics(
        decodeMeta(agent, req.resourceMeta),
        {
          queries: req.queries,
          ...(req.startTime ? { startTime: toDate(req.startTime)! } : {}),
          ...(req.endTime ? { endTime: toDate(req.endTime)! } : {}),
          ...(step ? { stepMs: Number(step.seconds) * 1000 + step.nanos / 1e6 } : {}),
        },
        s.context,
      );
      return { results: results.map((r) => ({ metric: r.metric, data: r.data })) };
    });
  };

  const getTaskLogs: handleServerStreamingCall<GetTaskLogsRequest, GetTaskLogsResponse> = (call) => {
    void streamLogs(call);
  };

  async function streamLogs(
    call: ServerWritableStream<GetTaskLogsRequest, GetTaskLogsResponse>,
  ): Promise<void> {
    const req = call.request;
    const category = categoryOf(req.taskCategory, req.taskType);
    const started = process.hrtime.bigint();
    if (hooks?.onStart && !hooks.onStart("logs", category.name)) {
      hooks.onRejected?.("logs", category.name);
      failStream(call, refusedError());
      return;
    }
    enter();
    const s = scope(call, "logs", category.name, "", undefined);
    try {
      const agent = asyncAgent(category);
      if (!agent.getLogs) {
        throw new FlyteAgentError(ErrorCode.UNIMPLEMENTED, `agent ${agent.name} does not implement getLogs`);
      }
      const logs = agent.getLogs(
        decodeMeta(agent, req.resourceMeta),
        { lines: Number(req.lines), token: req.token },
        s.context,
      );
      const iterator = logs[Symbol.asyncIterator]();
      for (;;) {
        const next = await s.race(iterator.next());
        if (next.done) break;
        const chunk = next.value;
        if (chunk.token !== undefined) call.write({ header: { token: chunk.token } });
        call.write({ body: { results: [...chunk.lines], structuredLines: [] } });
      }
      hooks?.onEnd?.("logs", category.name, seconds(started), undefined);
      call.end();
    } catch (err) {
      const wire = toWireError(err, "logs", category.name);
      logFailure(s.logger, "logs", err, wire.code);
      hooks?.onEnd?.("logs", category.name, seconds(started), wire.code);
      failStream(call, Object.assign(new Error(wire.details), { code: wire.code, details: wire.details }));
    } finally {
      s.dispose();
      leave();
    }
  }

  const executeTaskSync: handleBidiStreamingCall<ExecuteTaskSyncRequest, ExecuteTaskSyncResponse> = (
    call,
  ) => {
    void syncCall(call);
  };

  async function syncCall(
    call: ServerDuplexStream<ExecuteTaskSyncRequest, ExecuteTaskSyncResponse>,
  ): Promise<void> {
    // Protocol: first message carries the header, the second the inputs; then the client half-closes.
    const messages: ExecuteTaskSyncRequest[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on("data", (m: ExecuteTaskSyncRequest) => messages.push(m));
      call.on("end", () => resolve());
      call.on("error", reject);
      // A client that goes away before sending its inputs must not leave this call waiting.
      call.on("cancelled", () => reject(new CallAbortedError("cancelled")));
    });
    ended.catch(() => {}); // our own error status also arrives here, after the race is settled
    let taskType = "";
    const started = process.hrtime.bigint();
    let s: CallScope | undefined;
    let accepted = false;
    try {
      // Wait for the header and inputs; a client that keeps the stream open sends both first.
      await Promise.race([
        ended,
        waitFor(() => messages.length >= 2 || messages.some((m) => m.inputs), call),
      ]);
      const header = messages.find((m) => m.header)?.header;
      taskType = header?.template?.type ?? "";
      if (hooks?.onStart && !hooks.onStart("do", taskType)) {
        hooks.onRejected?.("do", taskType);
        failStream(call, refusedError());
        return;
      }
      accepted = true;
      enter();
      s = scope(
        call,
        "do",
        taskType,
        header?.outputPrefix ?? "",
        executionIdOf(header?.taskExecutionMetadata),
      );
      if (!header?.template) {
        throw new FlyteAgentError(
          ErrorCode.INVALID_TASK_TEMPLATE,
          "the first ExecuteTaskSync message must be a header with a template",
        );
      }
      const template = header.template;
      const inputs = messages.find((m) => m.inputs)?.inputs;
      hooks?.onInputs?.(taskType, inputs ? byteLength(inputs) : 0);
      const agent = registry.getAgent(template.type, template.taskTypeVersion);
      if (!isSyncAgent(agent)) {
        throw new FlyteAgentError(
          ErrorCode.WRONG_AGENT_KIND,
          `${formatCategory(agent.taskCategory)} is served by the async agent ${agent.name}: call CreateTask/GetTask instead`,
        );
      }
      const resource = await s.race(agent.do(taskRequest(s, template, inputs, header.taskExecutionMetadata)));
      checkResource(s, agent, resource, "sync");
      call.write({ header: { resource: toResource(agent, resource, template) } });
      hooks?.onEnd?.("do", taskType, seconds(started), undefined);
      call.end();
    } catch (err) {
      const wire = toWireError(err, "do", taskType);
      logFailure(s?.logger ?? options.logger, "do", err, wire.code);
      if (accepted) hooks?.onEnd?.("do", taskType, seconds(started), wire.code);
      failStream(call, Object.assign(new Error(wire.details), { code: wire.code, details: wire.details }));
    } finally {
      s?.dispose();
      if (accepted) leave();
    }
  }

  const listAgents: handleUnaryCall<ListAgentsRequest, ListAgentsResponse> = (call, callback) => {
    unary(call, callback, "list", "", "", undefined, async () => ({
      agents: registry.listAgents().map((a) => ({
        name: a.name,
        isSync: a.isSync,
        supportedTaskTypes: a.categories.map((c) => c.name),
        supportedTaskCategories: a.categories.map((c) => ({ name: c.name, version: c.version })),
      })),
    }));
  };

  const getAgent: handleUnaryCall<GetAgentRequest, GetAgentResponse> = (call, callback) => {
    unary(call, callback, "describe", "", "", undefined, async () => {
      const found = registry.listAgents().find((a) => a.name === call.request.name);
      if (!found) {
        throw new FlyteAgentError(
          ErrorCode.AGENT_NOT_FOUND,
          `Cannot find connector named ${call.request.name}. Available: [${registry
            .listAgents()
            .map((a) => a.name)
            .join(", ")}]`,
        );
      }
      return {
        agent: {
          name: found.name,
          isSync: found.isSync,
          supportedTaskTypes: found.categories.map((c) => c.name),
          supportedTaskCategories: found.categories.map((c) => ({ name: c.name, version: c.version })),
        },
      };
    });
  };

  return {
    asyncAgentService: { createTask, getTask, deleteTask, getTaskMetrics, getTaskLogs },
    syncAgentService: { executeTaskSync },
    metadataService: { getAgent, listAgents },
    /** Agent calls currently running (health checks and reflection are not counted). */
    inFlight: (): number => inFlight,
    /** Resolves when no agent call is running. */
    idle,
    /**
     * Answers every call still running with UNAVAILABLE (and fires its agent's signal): for the end
     * of a drain's grace period, so clients get a status rather than a dropped connection.
     */
    abortAll: (): void => {
      for (const s of [...live]) s.abort("shutdown");
    },
  };
}

/**
 * Ends a streaming call with an error status. grpc-js sends the status of an "error" event on the
 * stream; `destroy(err)` would drop it and leave the client waiting.
 */
function failStream(call: { emit(event: "error", err: Error): boolean }, err: Error): void {
  call.emit("error", err);
}

function waitFor(done: () => boolean, call: { on(e: "data", f: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => {
    if (done()) return resolve();
    call.on("data", () => {
      if (done()) resolve();
    });
  });
}

function seconds(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function byteLength(inputs: LiteralMap): number {
  return LiteralMapCodec.encode(inputs).finish().length;
}

function logFailure(logger: Logger, op: Operation, err: unknown, code: status): void {
  if (code === status.INTERNAL) logger.error({ err, grpc_code: status[code] }, `${op} failed`);
  else
    logger.warn(
      { grpc_code: status[code], reason: err instanceof Error ? err.message : String(err) },
      `${op} failed`,
    );
}
