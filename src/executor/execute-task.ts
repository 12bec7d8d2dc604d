import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve as resolvePath } from "node:path";
import type { AgentServer } from "../server/server.js";
import { AgentRegistry } from "../core/registry.js";
import { ErrorCode, FlyteAgentError } from "../core/errors.js";
import { TaskExecutionPhase, phaseName } from "../core/phase.js";
import {
  ExecuteTaskSyncResponse,
  GetTaskResponse,
  type Resource as ProtoResource,
  type TaskExecutionMetadata,
} from "../gen/flyteidl/admin/agent.js";
import type { TaskExecutionIdentifier } from "../gen/flyteidl/core/identifier.js";
import { LiteralMap } from "../gen/flyteidl/core/literals.js";
import { TaskTemplate } from "../gen/flyteidl/core/tasks.js";
import { isLiteralMap } from "../core/resource.js";
import { type TaskDefinition, isTaskDefinition } from "../task/define-task.js";
import { literalToPlain } from "../types/literal-to-plain.js";
import { durationToMs } from "../types/duration.js";
import { AgentRouter, type AgentRoute } from "./agent-router.js";
import { type ExecutorClock, RateLimiter, realClock } from "./clock.js";
import { decodeErrorDocument } from "./error-document.js";
import type { ContractWarning, ExecutionEvent, ExecutionLogLink } from "./events.js";
import type { PropellerAgentConfig, RpcOperation } from "./propeller-config.js";
import { renderTemplate } from "./render-template.js";
import { emptyResource, mapResource, type PhaseOutcome } from "./status-mapping.js";
import { type ExecutorStorage, localStorage } from "./storage.js";
import type { RpcError } from "./transport.js";
import type { RpcObserver, TlsOptions } from "./transport.js";
import { type ExecutorSession, endpointConfig } from "./executor-session.js";

/** gRPC's default receive limit, which FlytePropeller keeps. */
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Warn when a response takes more than this share of the limit. */
const NEAR_LIMIT_BYTES = Math.floor(MAX_MESSAGE_BYTES * 0.75);
/** FlytePropeller refuses `outputs.pb` files larger than this. */
const MAX_OUTPUT_FILE_BYTES = 2 * 1024 * 1024;

/** What {@link executeTask} takes. */
export interface ExecuteTaskOptions {
  /** A task made by `defineTask`, or a raw template. */
  readonly task: TaskDefinition<any, any, any> | { readonly template: TaskTemplate };
  /** Plain values (validated with the task's input schemas) or a ready `LiteralMap`. @default {} */
  readonly inputs?: Record<string, unknown> | LiteralMap;
  /**
   * An agent server already running (`host:port`, `dns:///host:port`). Without it and without
   * `config`, the executor serves `registry` itself on a loopback port and dials it.
   */
  readonly endpoint?: string;
  /** Use TLS towards `endpoint`. @default false (plaintext, as FlytePropeller's default agent) */
  readonly tls?: boolean | TlsOptions;
  /** Route as FlytePropeller would from its `agent-service` / `connector-service` config. */
  readonly config?: PropellerAgentConfig;
  /** Agents served in-process. @default `AgentRegistry.default` */
  readonly registry?: AgentRegistry;
  /** Per-RPC deadlines in ms for `endpoint` and in-process runs (with `config`, its timeouts apply). */
  readonly rpcTimeouts?: Partial<Record<RpcOperation, number>>;
  /** Deadline for operations without one in `rpcTimeouts`; 0 = none. @default 3000 (propeller's) */
  readonly defaultRpcTimeoutMs?: number;
  /** First wait between GetTask calls. @default 200 */
  readonly pollIntervalMs?: number;
  /** The wait grows by half each poll up to this. @default 2000 */
  readonly maxPollIntervalMs?: number;
  /** Wait before retrying a failed GetTask; doubles per failure. @default 500 */
  readonly errorBackoffMs?: number;
  /**
   * Poll as FlytePropeller does: first GetTask at once, then every `resyncInterval` (30s unless the
   * config says otherwise), through the shared 10 qps / burst 100 rate limiter.
   * @default false
   */
  readonly propellerTiming?: boolean;
  /**
   * Reproduce FlytePropeller's defect: after the GetTask failure budget is spent on a task that had
   * reported a phase, the task hangs (until the timeout or an interrupt) instead of failing.
   * @default false
   */
  readonly reproduceStuckTask?: boolean;
  /** @default the wall clock */
  readonly clock?: ExecutorClock;
  /** Aborts the run (then DeleteTask) after this long. @default the template's timeout, else none */
  readonly timeoutMs?: number;
  /** Retries after a retryable failure, each with a new output prefix. @default the template's */
  readonly retries?: number;
  /** Aborting it interrupts the run: DeleteTask for a running task, then the result. */
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: ExecutionEvent) => void;
  /** Directory under which the run's prefixes are made. @default a new temp directory */
  readonly outputDir?: string;
  /** Where inputs and outputs are read and written. @default the local filesystem */
  readonly storage?: ExecutorStorage;
  /** Turn contract warnings into a failed result. @default false */
  readonly strict?: boolean;
  /**
   * Run over a session shared with other runs (one connection per deployment, one discovery loop,
   * one GetTask rate limiter, as in one FlytePropeller process). The session's endpoint or config,
   * TLS, deadlines and RPC observer then apply: passing `endpoint`, `config`, `registry`, `tls`,
   * `rpcTimeouts`, `defaultRpcTimeoutMs` or `onRpc` as well is an error. The run does not close it.
   * @default none: the run opens its own connections and closes them at the end
   */
  readonly session?: ExecutorSession;
  /** Sees every finished RPC of the run (operation, duration, status). */
  readonly onRpc?: RpcObserver;
  /** Task execution metadata sent with CreateTask / ExecuteTaskSync. */
  readonly namespace?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly env?: Record<string, string>;
  readonly serviceAccount?: string;
  /** The execution name. @default a random id like FlyteAdmin's */
  readonly executionName?: string;
}

/** How a run ended. */
export interface ExecutionResult {
  /** The final phase name: SUCCEEDED, FAILED, RETRYABLE_FAILED, ABORTED. */
  readonly phase: string;
  readonly succeeded: boolean;
  /** Output values, decoded with the task's output schemas when known. */
  readonly outputs: Record<string, unknown>;
  readonly outputLiterals: LiteralMap | undefined;
  /** FlytePropeller's message for a failure; empty on success. */
  readonly message: string;
  /** The failure code (`TaskFailedWithError`, an `agent_error.code`, `OutputsNotFound`, ...). */
  readonly code: string | undefined;
  readonly attempts: number;
  /** The output prefix of the last attempt. */
  readonly outputPrefix: string;
  readonly warnings: readonly ContractWarning[];
  readonly executionId: string;
  /** Set when the run was cut short. */
  readonly interrupted: "interrupted" | "timeout" | undefined;
  readonly durationMs: number;
}

type AttemptOutcome =
  | { readonly kind: "succeeded"; readonly literals: LiteralMap | undefined }
  | {
      readonly kind: "failed";
      readonly phase: TaskExecutionPhase;
      readonly retryable: boolean;
      readonly code: string;
      readonly message: string;
    }
  | { readonly kind: "aborted"; readonly reason: "interrupted" | "timeout" };

interface Run {
  readonly o: ResolvedOptions;
  readonly template: TaskTemplate;
  readonly inputs: LiteralMap;
  readonly router: AgentRouter;
  readonly signal: AbortSignal;
  readonly abortReason: () => "interrupted" | "timeout";
  readonly started: number;
  readonly warnings: ContractWarning[];
  readonly limiter: RateLimiter;
  readonly executionId: TaskExecutionIdentifier;
  getFailures: number;
  emit(event: DistributiveOmit<ExecutionEvent, "elapsedMs">): void;
  warn(rule: string, message: string): void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface ResolvedOptions {
  readonly task: ExecuteTaskOptions["task"];
  readonly clock: ExecutorClock;
  readonly storage: ExecutorStorage;
  readonly pollIntervalMs: number;
  readonly maxPollIntervalMs: number;
  readonly errorBackoffMs: number;
  readonly propellerTiming: boolean;
  readonly reproduceStuckTask: boolean;
  readonly strict: boolean;
  readonly onEvent: (event: ExecutionEvent) => void;
}

function resolveOptions(options: ExecuteTaskOptions): ResolvedOptions {
  const positive = (name: string, v: number | undefined, d: number) => {
    if (v === undefined) return d;
    if (!Number.isFinite(v) || v < 0)
      throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, `${name} must be a non-negative number, got ${v}`);
    return v;
  };
  const pollIntervalMs = positive("pollIntervalMs", options.pollIntervalMs, 200);
  if (options.session) {
    const clash = (
      ["endpoint", "config", "registry", "tls", "rpcTimeouts", "defaultRpcTimeoutMs", "onRpc"] as const
    ).filter((k) => options[k] !== undefined);
    if (clash.length > 0) {
      throw new FlyteAgentError(
        ErrorCode.INVALID_CONFIG,
        `${clash.join(", ")} cannot be combined with session: give them to ExecutorSession.create`,
      );
    }
    if (options.session.isClosed)
      throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, "the executor session is closed");
  }
  return {
    task: options.task,
    clock: options.clock ?? realClock,
    storage: options.storage ?? localStorage,
    pollIntervalMs,
    maxPollIntervalMs: Math.max(
      pollIntervalMs,
      positive("maxPollIntervalMs", options.maxPollIntervalMs, 2000),
    ),
    errorBackoffMs: positive("errorBackoffMs", options.errorBackoffMs, 500),
    propellerTiming: options.propellerTiming ?? false,
    reproduceStuckTask: options.reproduceStuckTask ?? false,
    strict: options.strict ?? false,
    onEvent: options.onEvent ?? (() => {}),
  };
}

function executionName(): string {
  // FlyteAdmin names executions with a letter and 19 more lowercase characters.
  return `a${randomBytes(10).toString("hex").slice(0, 19)}`;
}

function encodeInputs(task: ExecuteTaskOptions["task"], inputs: ExecuteTaskOptions["inputs"]): LiteralMap {
  if (inputs !== undefined && isLiteralMap(inputs)) return inputs;
  if (isTaskDefinition(task)) return task.encodeInputs(inputs ?? {});
  if (inputs === undefined || Object.keys(inputs).length === 0) return { literals: {} };
  throw new FlyteAgentError(
    ErrorCode.INVALID_CONFIG,
    "inputs of a raw template must be a LiteralMap (plain values need a task made by defineTask)",
  );
}

function decodeOutputs(
  task: ExecuteTaskOptions["task"],
  template: TaskTemplate,
  literals: LiteralMap | undefined,
) {
  if (!literals) return {};
  if (isTaskDefinition(task)) return task.decodeOutputs(literals) as Record<string, unknown>;
  const variables = template.interface?.outputs?.variables ?? {};
  return Object.fromEntries(
    Object.entries(literals.literals).map(([k, v]) => [k, literalToPlain(v, variables[k]?.type)]),
  );
}

/**
 * Runs one task the way FlytePropeller would: CreateTask then GetTask until a terminal phase (or one
 * ExecuteTaskSync call for sync agents), with propeller's request contents, deadlines, status mapping,
 * output handling and retries, over real gRPC. Without `endpoint` or `config`, the agents of
 * `registry` are served on a loopback port for the duration of the run.
 *
 * The result describes failures; it rejects only for bad options, unreadable inputs or no route.
 *
 * @example
 * ```ts
 * const result = await executeTask({ task: dailyTotals, inputs: { day: new Date() } });
 * if (result.succeeded) console.log(result.outputs);
 * ```
 */
export async function executeTask(options: ExecuteTaskOptions): Promise<ExecutionResult> {
  const o = resolveOptions(options);
  const started = o.clock.now();
  const baseTemplate: TaskTemplate = isTaskDefinition(options.task)
    ? options.task.template()
    : (options.task as { readonly template: TaskTemplate }).template;
  const inputs = encodeInputs(options.task, options.inputs);
  const controller = new AbortController();
  let reason: "interrupted" | "timeout" = "interrupted";
  const onAbort = () => controller.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) controller.abort();
  const templateTimeout = baseTemplate.metadata?.timeout
    ? durationToMs(baseTemplate.metadata.timeout)
    : undefined;
  const timeoutMs =
    options.timeoutMs ?? (templateTimeout && templateTimeout > 0 ? templateTimeout : undefined);
  const timer =
    timeoutMs !== undefined
      ? setTimeout(() => {
          reason = "timeout";
          controller.abort();
        }, timeoutMs)
      : undefined;

  let server: AgentServer | undefined;
  let router: AgentRouter | undefined;
  let ownRouter: AgentRouter | undefined;
  try {
    let config = options.session?.router.config ?? options.config;
    if (!config) {
      let endpoint = options.endpoint;
      if (!endpoint) {
        const { AgentServer } = await import("../server/server.js");
        server = await AgentServer.start({
          host: "127.0.0.1",
          port: 0,
          registry: options.registry ?? AgentRegistry.default,
        });
        endpoint = server.address;
      }
      config = endpointConfig(endpoint, options);
    }
    if (options.session) {
      router = options.session.router;
    } else {
      const tls = typeof options.tls === "object" ? options.tls : undefined;
      router = ownRouter = await AgentRouter.create(
        config,
        tls,
        options.onRpc ? { onRpc: options.onRpc } : undefined,
      );
    }
    const category = { name: baseTemplate.type, version: baseTemplate.taskTypeVersion };
    const firstRoute = router.route(category);

    const runDir = options.outputDir
      ? resolvePath(options.outputDir)
      : await mkdtemp(join(tmpdir(), "flyte-agent-run-"));
    const name = options.executionName ?? executionName();
    const id = baseTemplate.id;
    const executionId: TaskExecutionIdentifier = {
      taskId: id,
      nodeExecutionId: {
        nodeId: "n0",
        executionId: { project: id?.project ?? "", domain: id?.domain ?? "", name, org: id?.org ?? "" },
      },
      retryAttempt: 0,
    };
    const run: Run = {
      o,
      template: baseTemplate,
      inputs,
      router,
      signal: controller.signal,
      abortReason: () => reason,
      started,
      warnings: [],
      limiter:
        options.session?.limiter ??
        new RateLimiter(config.readRateLimiter.qps, config.readRateLimiter.burst, o.clock),
      executionId,
      getFailures: 0,
      emit: (event) => o.onEvent({ ...event, elapsedMs: o.clock.now() - started }),
      warn(rule, message) {
        if (this.warnings.some((w) => w.rule === rule && w.message === message)) return;
        this.warnings.push({ rule, message });
        this.emit({ type: "warning", rule, message });
      },
    };
    run.emit({
      type: "started",
      executionId: `${id?.project ?? ""}/${id?.domain ?? ""}/${name}`,
      task: id?.name ?? baseTemplate.type,
      taskType: category.name,
      taskTypeVersion: category.version,
      endpoint: firstRoute.deployment.endpoint,
      deployment: firstRoute.deployment.id,
      sync: firstRoute.isSync,
      via: firstRoute.via,
    });

    const namespace = options.namespace ?? `${id?.project ?? "flytesnacks"}-${id?.domain ?? "development"}`;
    const retries = options.retries ?? baseTemplate.metadata?.retries?.retries ?? 0;
    const inputPrefix = join(runDir, "inputs");
    await o.storage.write(o.storage.join(inputPrefix, "inputs.pb"), LiteralMap.encode(inputs).finish());
    const templatePath = o.storage.join(runDir, "task.pb");
    await o.storage.write(templatePath, TaskTemplate.encode(baseTemplate).finish());

    let attempt = 0;
    let outcome: AttemptOutcome;
    let outputPrefix: string;
    for (;;) {
      outputPrefix = join(runDir, `attempt-${attempt}`);
      await o.storage.ensurePrefix(outputPrefix);
      run.emit({ type: "attempt", attempt, outputPrefix });
      const attemptId = { ...executionId, retryAttempt: attempt };
      const template = renderTemplate(baseTemplate, {
        inputPrefix,
        inputPath: o.storage.join(inputPrefix, "inputs.pb"),
        outputPrefix,
        rawOutputDataPrefix: o.storage.join(outputPrefix, "raw"),
        perRetryUniqueKey: `${name}-n0-${attempt}`,
        taskTemplatePath: templatePath,
        checkpointOutputPrefix: o.storage.join(outputPrefix, "checkpoint"),
        prevCheckpointPrefix:
          attempt > 0 ? o.storage.join(join(runDir, `attempt-${attempt - 1}`), "checkpoint") : "",
        namespace,
        inputs,
      });
      const metadata: TaskExecutionMetadata = {
        taskExecutionId: attemptId,
        namespace,
        labels: { "execution-id": name, "task-name": id?.name ?? "", ...(options.labels ?? {}) },
        annotations: { ...(options.annotations ?? {}) },
        k8sServiceAccount: options.serviceAccount ?? "default",
        environmentVariables: { ...(options.env ?? {}) },
        maxAttempts: retries + 1,
        interruptible: baseTemplate.metadata?.interruptible ?? false,
        interruptibleFailureThreshold: 0,
        overrides: undefined,
        identity: undefined,
      };
      const route = router.route(category);
      outcome = route.isSync
        ? await runSync(run, route, template, metadata, outputPrefix, attempt)
        : await runAsync(run, category, template, metadata, outputPrefix, attempt);
      if (outcome.kind === "failed") {
        const willRetry = outcome.retryable && attempt < retries && !controller.signal.aborted;
        run.emit({
          type: "attempt-failed",
          attempt,
          phase: phaseName(outcome.phase),
          code: outcome.code,
          message: outcome.message,
          retryable: outcome.retryable,
          willRetry,
        });
        if (willRetry) {
          attempt += 1;
          continue;
        }
      }
      break;
    }

    const base = {
      attempts: attempt + 1,
      outputPrefix,
      warnings: run.warnings,
      executionId: `${id?.project ?? ""}/${id?.domain ?? ""}/${name}`,
      durationMs: o.clock.now() - started,
    };
    if (outcome.kind === "aborted") {
      return {
        ...base,
        phase: "ABORTED",
        succeeded: false,
        outputs: {},
        outputLiterals: undefined,
        message: outcome.reason === "timeout" ? `task timed out after ${timeoutMs} ms` : "interrupted",
        code: outcome.reason === "timeout" ? "Timeout" : "Interrupted",
        interrupted: outcome.reason,
      };
    }
    if (outcome.kind === "failed") {
      return {
        ...base,
        phase: phaseName(outcome.phase),
        succeeded: false,
        outputs: {},
        outputLiterals: undefined,
        message: outcome.message,
        code: outcome.code,
        interrupted: undefined,
      };
    }
    let outputs: Record<string, unknown>;
    try {
      outputs = decodeOutputs(options.task, baseTemplate, outcome.literals);
    } catch (err) {
      return {
        ...base,
        phase: "FAILED",
        succeeded: false,
        outputs: {},
        outputLiterals: outcome.literals,
        message: `outputs do not match the task's interface: ${(err as Error).message}`,
        code: "OutputsMismatch",
        interrupted: undefined,
      };
    }
    if (o.strict && run.warnings.length > 0) {
      return {
        ...base,
        phase: "FAILED",
        succeeded: false,
        outputs,
        outputLiterals: outcome.literals,
        message: `--strict: ${run.warnings.length} contract warning(s): ${run.warnings.map((w) => w.rule).join(", ")}`,
        code: "ContractWarning",
        interrupted: undefined,
      };
    }
    return {
      ...base,
      phase: "SUCCEEDED",
      succeeded: true,
      outputs,
      outputLiterals: outcome.literals,
      message: "",
      code: undefined,
      interrupted: undefined,
    };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    ownRouter?.close();
    await server?.shutdown(1_000);
  }
}

function logLinksOf(resource: ProtoResource): ExecutionLogLink[] {
  return resource.logLinks.map((l) => ({ name: l.name, uri: l.uri }));
}

function checkResponseSize(run: Run, bytes: number, what: string): void {
  if (bytes > NEAR_LIMIT_BYTES) {
    run.warn(
      "response-size",
      `${what} is ${bytes} bytes, near gRPC's 4 MiB limit that FlytePropeller keeps; write big results to {output_prefix}/outputs.pb or storage instead`,
    );
  }
}

function checkResource(run: Run, resource: ProtoResource, path: "async" | "sync"): void {
  if ((resource.phase as number) === 0) {
    run.warn(
      "phase-unset",
      "the agent returned a Resource without a phase; FlytePropeller falls back to the deprecated state, whose default means a retryable failure: always set phase",
    );
  }
  if ((resource.phase as number) === TaskExecutionPhase.RUNNING && resource.message) {
    run.warn(
      "running-message-dropped",
      `FlytePropeller drops the message on RUNNING ("${resource.message}"); report progress through QUEUED/INITIALIZING reasons, log links or custom_info`,
    );
  }
  if (
    path === "async" &&
    resource.agentError?.code &&
    ((resource.phase as number) === TaskExecutionPhase.FAILED ||
      (resource.phase as number) === TaskExecutionPhase.RETRYABLE_FAILED)
  ) {
    run.warn(
      "async-agent-error-dropped",
      `FlytePropeller ignores agent_error.code ("${resource.agentError.code}") on GetTask; the failure is recorded as TaskFailedWithError`,
    );
  }
}

function abortedOutcome(run: Run): AttemptOutcome {
  return { kind: "aborted", reason: run.abortReason() };
}

async function deleteTask(
  run: Run,
  category: { name: string; version: number },
  resourceMeta: Buffer,
  attempt: number,
): Promise<void> {
  const reason = run.abortReason();
  try {
    await run.router.route(category).connection.deleteTask({
      taskType: category.name,
      taskCategory: category,
      resourceMeta,
    });
    run.emit({ type: "delete", attempt, reason, ok: true });
  } catch (err) {
    run.emit({ type: "delete", attempt, reason, ok: false, error: (err as Error).message });
  }
}

async function runAsync(
  run: Run,
  category: { name: string; version: number },
  template: TaskTemplate,
  metadata: TaskExecutionMetadata,
  outputPrefix: string,
  attempt: number,
): Promise<AttemptOutcome> {
  const { o } = run;
  if (run.signal.aborted) return abortedOutcome(run);
  let resourceMeta: Buffer;
  try {
    const res = await run.router.route(category).connection.createTask({
      inputs: run.inputs,
      template,
      outputPrefix,
      taskExecutionMetadata: metadata,
    });
    resourceMeta = res.resourceMeta;
  } catch (err) {
    // Any create error costs one retry; nothing was created, so nothing is deleted.
    const e = err as RpcError;
    return {
      kind: "failed",
      phase: TaskExecutionPhase.RETRYABLE_FAILED,
      retryable: true,
      code: e.codeName ?? "CreateTaskFailed",
      message: `failed to create the task: ${e.message}`,
    };
  }
  run.emit({ type: "created", attempt, resourceMetaBytes: resourceMeta.length });

  let seen = false;
  let lastPhase: number | undefined;
  let lastInfo = "";
  let delay = o.propellerTiming ? run.router.config.resyncIntervalMs : o.pollIntervalMs;
  let wait = 0;
  const budget = run.router.config.maxSystemFailures + 1;
  for (;;) {
    if (wait > 0) await o.clock.sleep(wait, run.signal);
    if (run.signal.aborted) {
      await deleteTask(run, category, resourceMeta, attempt);
      return abortedOutcome(run);
    }
    if (o.propellerTiming) await run.limiter.take(run.signal);
    await run.router.refreshIfDue(o.clock.now());
    let response: GetTaskResponse;
    try {
      response = await run.router.route(category).connection.getTask({
        taskType: category.name,
        taskCategory: category,
        resourceMeta,
        outputPrefix,
      });
    } catch (err) {
      if (run.signal.aborted) continue;
      run.getFailures += 1;
      const e = err as RpcError;
      const exhausted = run.getFailures >= budget;
      const retryInMs = exhausted ? 0 : Math.min(30_000, o.errorBackoffMs * 2 ** (run.getFailures - 1));
      run.emit({
        type: "get-error",
        attempt,
        code: e.codeName ?? "UNKNOWN",
        message: e.details ?? e.message,
        failures: run.getFailures,
        budget,
        retryInMs,
      });
      if (!exhausted) {
        wait = o.propellerTiming ? delay : retryInMs;
        continue;
      }
      if (!seen) {
        return {
          kind: "failed",
          phase: TaskExecutionPhase.FAILED,
          retryable: false,
          code: "AutoRefreshCacheFailed",
          message: `GetTask failed ${run.getFailures} times and the task never reported a phase (last error: ${e.message})`,
        };
      }
      run.warn(
        "get-failure-budget",
        `GetTask failed ${run.getFailures} times; FlytePropeller stops polling and the task stays in ${phaseName(lastPhase ?? 0)} forever (a FlytePropeller defect): keep GetTask fast and available`,
      );
      if (o.reproduceStuckTask) {
        // Stuck as on a cluster: only the timeout or an interrupt ends it.
        while (!run.signal.aborted) await o.clock.sleep(60_000, run.signal);
        continue;
      }
      return {
        kind: "failed",
        phase: TaskExecutionPhase.FAILED,
        retryable: false,
        code: "AutoRefreshCacheFailed",
        message: `GetTask failed ${run.getFailures} times; on a cluster the task would hang in ${phaseName(lastPhase ?? 0)}`,
      };
    }
    checkResponseSize(run, GetTaskResponse.encode(response).finish().length, "the GetTask response");
    const resource = response.resource ?? emptyResource();
    seen = true;
    checkResource(run, resource, "async");
    const outcome = mapResource(resource, "async");
    const info = JSON.stringify([logLinksOf(resource), resource.customInfo ?? null]);
    if (outcome.phase !== lastPhase) {
      run.emit({
        type: "phase",
        attempt,
        phase: phaseName(outcome.phase),
        message:
          outcome.kind === "pending" ? outcome.reason : outcome.kind === "failed" ? outcome.message : "",
        logLinks: logLinksOf(resource),
        customInfo: resource.customInfo,
      });
      lastPhase = outcome.phase;
      lastInfo = info;
    } else if (info !== lastInfo) {
      run.emit({ type: "info", attempt, logLinks: logLinksOf(resource), customInfo: resource.customInfo });
      lastInfo = info;
    }
    const end = await finish(run, outcome, resource, outputPrefix);
    if (end) return end;
    wait = delay;
    if (!o.propellerTiming) delay = Math.min(o.maxPollIntervalMs, Math.round(delay * 1.5));
  }
}

/** The attempt's end for a terminal outcome, or undefined to keep polling. */
async function finish(
  run: Run,
  outcome: PhaseOutcome,
  resource: ProtoResource,
  outputPrefix: string,
): Promise<AttemptOutcome | undefined> {
  switch (outcome.kind) {
    case "pending":
    case "running":
      return undefined;
    case "failed":
      return {
        kind: "failed",
        phase: outcome.phase,
        retryable: outcome.retryable,
        code: outcome.code,
        message: outcome.message,
      };
    case "system-error":
      return {
        kind: "failed",
        phase: TaskExecutionPhase.FAILED,
        retryable: false,
        code: "SystemError",
        message: outcome.message,
      };
    case "succeeded":
      return readOutputs(run, resource, outputPrefix);
  }
}

async function readOutputs(run: Run, resource: ProtoResource, outputPrefix: string): Promise<AttemptOutcome> {
  const { storage } = run.o;
  const declared = Object.keys(run.template.interface?.outputs?.variables ?? {});
  if (declared.length === 0) return { kind: "succeeded", literals: undefined };
  const outputsPath = storage.join(outputPrefix, "outputs.pb");
  if (resource.outputs) {
    const missing = declared.filter((n) => !(n in resource.outputs!.literals));
    if (missing.length > 0) {
      run.warn(
        "outputs-missing",
        `Resource.outputs lacks declared output(s) ${missing.join(", ")}; downstream nodes reading them fail`,
      );
    }
    await storage.write(outputsPath, LiteralMap.encode(resource.outputs).finish());
    return { kind: "succeeded", literals: resource.outputs };
  }
  const errorDoc = await storage.read(storage.join(outputPrefix, "error.pb"));
  if (errorDoc) {
    const e = decodeErrorDocument(errorDoc);
    const retryable = e.kind === "RECOVERABLE";
    return {
      kind: "failed",
      phase: retryable ? TaskExecutionPhase.RETRYABLE_FAILED : TaskExecutionPhase.FAILED,
      retryable,
      code: e.code || "TaskFailedWithError",
      message: e.message,
    };
  }
  const size = await storage.size(outputsPath);
  if (size === undefined) {
    run.warn(
      "outputs-missing",
      `the agent reported SUCCEEDED without Resource.outputs and no ${outputsPath} exists, but the task declares outputs (${declared.join(", ")})`,
    );
    return {
      kind: "failed",
      phase: TaskExecutionPhase.RETRYABLE_FAILED,
      retryable: true,
      code: "OutputsNotFound",
      message: `Outputs not generated by task execution: no Resource.outputs and no ${outputsPath}`,
    };
  }
  if (size > MAX_OUTPUT_FILE_BYTES) {
    return {
      kind: "failed",
      phase: TaskExecutionPhase.FAILED,
      retryable: false,
      code: "OutputSizeExceeded",
      message: `${outputsPath} is ${size} bytes, over FlytePropeller's ${MAX_OUTPUT_FILE_BYTES}-byte limit`,
    };
  }
  const bytes = (await storage.read(outputsPath)) ?? Buffer.alloc(0);
  let literals: LiteralMap;
  try {
    literals = LiteralMap.decode(bytes);
  } catch (err) {
    return {
      kind: "failed",
      phase: TaskExecutionPhase.FAILED,
      retryable: false,
      code: "OutputsUnreadable",
      message: `${outputsPath} is not a LiteralMap: ${(err as Error).message}`,
    };
  }
  const missing = declared.filter((n) => !(n in literals.literals));
  if (missing.length > 0)
    run.warn("outputs-missing", `${outputsPath} lacks declared output(s) ${missing.join(", ")}`);
  return { kind: "succeeded", literals };
}

async function runSync(
  run: Run,
  route: AgentRoute,
  template: TaskTemplate,
  metadata: TaskExecutionMetadata,
  outputPrefix: string,
  _attempt: number,
): Promise<AttemptOutcome> {
  if (run.signal.aborted) return abortedOutcome(run);
  let messages: ExecuteTaskSyncResponse[];
  try {
    messages = await route.connection.executeTaskSync(
      { header: { template, outputPrefix, taskExecutionMetadata: metadata, maxDatasetSizeBytes: 0n } },
      { inputs: run.inputs },
      run.signal,
    );
  } catch (err) {
    if (run.signal.aborted) return abortedOutcome(run);
    const e = err as RpcError;
    return {
      kind: "failed",
      phase: TaskExecutionPhase.RETRYABLE_FAILED,
      retryable: true,
      code: e.codeName ?? "ExecuteTaskSyncFailed",
      message: `ExecuteTaskSync failed: ${e.message}`,
    };
  }
  const first = messages[0];
  if (first)
    checkResponseSize(
      run,
      ExecuteTaskSyncResponse.encode(first).finish().length,
      "the ExecuteTaskSync response",
    );
  if (messages.length > 1) {
    run.warn(
      "sync-extra-messages",
      `the agent sent ${messages.length} messages; FlytePropeller reads only the first`,
    );
  }
  const resource = first?.header?.resource;
  if (!resource) {
    return {
      kind: "failed",
      phase: TaskExecutionPhase.FAILED,
      retryable: false,
      code: "SystemError",
      message: "expected header in the response, but got none",
    };
  }
  checkResource(run, resource, "sync");
  const outcome = mapResource(resource, "sync");
  run.emit({
    type: "phase",
    attempt: _attempt,
    phase: phaseName(outcome.phase),
    message: outcome.kind === "pending" ? outcome.reason : outcome.kind === "failed" ? outcome.message : "",
    logLinks: logLinksOf(resource),
    customInfo: resource.customInfo,
  });
  if (outcome.kind === "pending" || outcome.kind === "running") {
    run.warn(
      "sync-non-terminal",
      `the sync agent answered ${phaseName(outcome.phase)}; FlytePropeller never asks again, so on a cluster the task stays queued forever: return a terminal phase`,
    );
    return {
      kind: "failed",
      phase: TaskExecutionPhase.FAILED,
      retryable: false,
      code: "SyncNonTerminal",
      message: `sync agent answered the non-terminal phase ${phaseName(outcome.phase)}`,
    };
  }
  return (await finish(run, outcome, resource, outputPrefix))!;
}
