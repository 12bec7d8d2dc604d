import type { AgentContext, Connection, Logger } from "../core/context.js";
import { CallAbortedError, type Operation } from "./errors.js";

/** The protocol a call came in on: Flyte 1's `flyteidl.service` or Flyte 2's `flyteidl2.connector`. */
export type Protocol = "flyte1" | "flyte2";

/** What the pipeline knows about a call before its agent runs: for hooks, logs and the call's scope. */
export interface CallInfo {
  readonly op: Operation;
  /** The caller's task type (`""` for calls that name none, as ListAgents). */
  readonly taskType: string;
  /** Where outputs of this attempt go. @default "" */
  readonly outputPrefix?: string;
  /** The task execution id, when the caller sent one (logged on every line of the call). */
  readonly executionId?: string | undefined;
  /** The `protocol` label of the call's metrics. @default "flyte1" */
  readonly protocol?: Protocol;
  /** What a Flyte 2 request carried in `connection`: handed to the agent, never logged. */
  readonly connection?: Connection | undefined;
}

/** The part of a grpc-js call a scope watches: its deadline and its cancellation. */
export interface WatchedCall {
  getDeadline(): Date | number;
  on(event: "cancelled", fn: () => void): unknown;
}

/** pino's level check; other loggers may not have one, and then every level counts as enabled. */
interface LevelChecking {
  isLevelEnabled?(level: string): boolean;
}

/**
 * A logger that creates its pino child (with the call's bindings) only when something is logged at
 * a level the parent writes: most GetTask calls log nothing above debug, and a child per call (pino
 * copies its bindings and redaction for each) is measurable at tens of thousands of calls/s. A class,
 * so that a call that touches its logger allocates one object, not a closure per level.
 */
class LazyChild implements Logger {
  #child: Logger | undefined;
  // ECMAScript private fields: an agent that logs its context must not serialize the parent logger or
  // the call (whose connection holds secret values).
  readonly #parent: Logger;
  readonly #call: CallInfo;
  constructor(parent: Logger, call: CallInfo) {
    this.#parent = parent;
    this.#call = call;
  }

  #get(): Logger {
    if (this.#child) return this.#child;
    const { op, taskType, executionId } = this.#call;
    return (this.#child = this.#parent.child(
      executionId ? { op, task_type: taskType, task_execution_id: executionId } : { op, task_type: taskType },
    ));
  }

  #log(level: "debug" | "info" | "warn" | "error", obj: unknown, msg: string | undefined): void {
    if (!this.#child && (this.#parent as LevelChecking).isLevelEnabled?.(level) === false) return;
    if (msg === undefined) this.#get()[level](obj);
    else this.#get()[level](obj, msg);
  }

  debug(obj: unknown, msg?: string): void {
    this.#log("debug", obj, msg);
  }
  info(obj: unknown, msg?: string): void {
    this.#log("info", obj, msg);
  }
  warn(obj: unknown, msg?: string): void {
    this.#log("warn", obj, msg);
  }
  error(obj: unknown, msg?: string): void {
    this.#log("error", obj, msg);
  }
  child(bindings: Record<string, unknown>): Logger {
    return this.#get().child(bindings);
  }
}

type AbortReason = CallAbortedError["reason"];

/**
 * One call's deadline, cancellation, logger and agent context. Everything a call may not need is
 * made on first use: the AbortController when the agent reads `signal`, the logger when something
 * logs. Only a call with a deadline gets a timer.
 */
export class CallScope {
  readonly context: AgentContext;
  /** Called once when the call is aborted while running (set by the pipeline that answers the call). */
  onAbort: ((err: CallAbortedError) => void) | undefined;
  /** The task type as hooks and metrics see it (see `UNSERVED_TASK_TYPE`). */
  taskTypeLabel = "";
  /** The protocol the call came in on (see {@link CallInfo.protocol}). */
  protocol: Protocol = "flyte1";
  /** The deadline in epoch milliseconds (Infinity when the caller set none). */
  readonly deadlineMs: number;
  #logger: Logger | undefined;
  #controller: AbortController | undefined;
  #aborted: CallAbortedError | undefined;
  // grpc-js emits "cancelled" after every answered call too; only a signal already handed out hears it.
  #lateReason: AbortReason | undefined;
  #timer: NodeJS.Timeout | undefined;
  #racing: ((err: CallAbortedError) => void) | undefined;
  #done = false;

  constructor(
    call: WatchedCall,
    private readonly parentLogger: Logger,
    private readonly info: CallInfo,
    private readonly live: Set<CallScope>,
  ) {
    live.add(this);
    const raw = call.getDeadline();
    const deadlineMs = raw instanceof Date ? raw.getTime() : raw;
    this.deadlineMs = deadlineMs;
    const hasDeadline = Number.isFinite(deadlineMs);
    if (hasDeadline) {
      this.#timer = setTimeout(() => this.abort("deadline"), Math.max(0, deadlineMs - Date.now()));
    }
    call.on("cancelled", () => this.abort("cancelled"));
    const outputPrefix = info.outputPrefix ?? "";
    // Own enumerable getters, so an agent spreading or destructuring its context still gets them.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const scope = this;
    const context: { -readonly [K in keyof AgentContext]: AgentContext[K] } = {
      get signal() {
        return scope.signal;
      },
      get logger() {
        return scope.logger;
      },
      outputPrefix,
    };
    // Added only when there: no allocation for a call that has neither.
    if (hasDeadline) context.deadline = new Date(deadlineMs);
    if (info.connection) context.connection = info.connection;
    this.context = context;
  }

  get logger(): Logger {
    return (this.#logger ??= new LazyChild(this.parentLogger, this.info));
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      const reason = this.#aborted ?? (this.#lateReason && new CallAbortedError(this.#lateReason));
      if (reason) this.#controller.abort(reason);
    }
    return this.#controller.signal;
  }

  /** Why the call was aborted while it ran, if it was. */
  get aborted(): CallAbortedError | undefined {
    return this.#aborted;
  }

  /**
   * True when the call may no longer send a message: it was answered or aborted, or its deadline is
   * past. grpc-js ends a call on its own deadline timer (grpc-js 1.14.7 server-interceptors.ts:659),
   * created before ours and measured on the loop's millisecond clock, so it may fire first and up to
   * a millisecond before `Date.now()` reaches the deadline: hence the millisecond of margin.
   */
  get closed(): boolean {
    return this.#done || this.#aborted !== undefined || Date.now() >= this.deadlineMs - 1;
  }

  /**
   * Throws the reason the call may no longer send a message, if there is one; a deadline found past
   * here aborts the call as its timer would have. Once grpc-js has begun its deadline status on a
   * stream that already sent a message, it ends the HTTP/2 stream and waits for `wantTrailers`
   * (server-interceptors.ts:972-987); a message written after that fails as a write after end and
   * leaves the stream open with no status at all, while its `sendMessage` (:891) does not check for
   * it. So nothing may be written once the deadline is past.
   */
  checkSendable(): void {
    if (!this.closed) return;
    if (!this.#aborted && !this.#done) this.abort("deadline");
    throw this.#aborted ?? new CallAbortedError(this.#lateReason ?? "cancelled");
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
    const racing = this.#racing;
    this.#racing = undefined;
    racing?.(err);
    this.onAbort?.(err);
  }

  /** Settles as `work` does, or rejects as soon as the call is aborted. One race at a time. */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.#aborted) {
      work.catch(() => {});
      return Promise.reject(this.#aborted);
    }
    return new Promise<T>((resolve, reject) => {
      this.#racing = reject;
      work.then(
        (value) => {
          this.#racing = undefined;
          resolve(value);
        },
        (err: Error) => {
          this.#racing = undefined;
          reject(err);
        },
      );
    });
  }

  /** The call has been answered. */
  dispose(): void {
    this.live.delete(this);
    this.#done = true;
    this.onAbort = undefined;
    this.#racing = undefined;
    if (this.#timer) clearTimeout(this.#timer);
  }
}
