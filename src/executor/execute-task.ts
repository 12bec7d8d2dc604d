import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve as resolvePath } from "node:path";
import type { RpcError, TlsOptions } from "../client/agent-client.js";
import { ErrorCode, FlyteAgentError } from "@flyte-agent/runtime/internal/core/errors.js";
import { getAgentSecret } from "@flyte-agent/runtime/internal/core/secrets.js";
import { TaskExecutionPhase, phaseName } from "@flyte-agent/runtime/internal/core/phase.js";
import { isLiteralMap } from "@flyte-agent/runtime/internal/core/resource.js";
import type {
  Resource as ProtoResource,
  TaskExecutionMetadata,
} from "@flyte-agent/runtime/internal/gen/flyteidl/admin/agent.js";
import type { TaskExecutionIdentifier } from "@flyte-agent/runtime/internal/gen/flyteidl/core/identifier.js";
import { LiteralMap } from "@flyte-agent/runtime/internal/gen/flyteidl/core/literals.js";
import { TaskTemplate } from "@flyte-agent/runtime/internal/gen/flyteidl/core/tasks.js";
import type { Connection } from "@flyte-agent/runtime/internal/gen/v2/flyteidl2/core/security.js";
import {
  budgetSpentOutcome,
  fastErrorBackoffMs,
  SyncFailureCount,
} from "@flyte-agent/runtime/internal/propeller/cache.js";
import {
  connectionFromCustom,
  connectionReadFailed,
  ConnectionReadError,
  secretValueFailed,
} from "@flyte-agent/runtime/internal/propeller/connector-wire.js";
import {
  FLYTE1_PROFILE,
  FlyteVersion,
  type PropellerProfile,
  profileOf,
} from "@flyte-agent/runtime/internal/propeller/profile.js";
import type { PropellerAgentConfig, RpcOperation } from "@flyte-agent/runtime/internal/propeller/config.js";
import {
  expiredDeadline,
  taskDeadlines,
  untilNextDeadline,
} from "@flyte-agent/runtime/internal/propeller/deadlines.js";
import {
  MAX_NODE_RETRIES_SYSTEM_FAILURES,
  MAX_WORKFLOW_RETRIES,
} from "@flyte-agent/runtime/internal/propeller/defaults.js";
import { resourceFindings, responseSizeFinding } from "@flyte-agent/runtime/internal/propeller/findings.js";
import {
  createFailed,
  deleteFailed,
  FailureCode,
  getFailed,
  goRpcError,
  renderFailed,
  retriesExhausted,
} from "@flyte-agent/runtime/internal/propeller/messages.js";
import { buildTaskExecutionMetadata } from "@flyte-agent/runtime/internal/propeller/metadata.js";
import { judgeOutputs } from "@flyte-agent/runtime/internal/propeller/outputs.js";
import {
  emptyResource,
  mapResource,
  type PhaseOutcome,
} from "@flyte-agent/runtime/internal/propeller/status.js";
import { syncVerdict, type SyncAnswer } from "@flyte-agent/runtime/internal/propeller/sync.js";
import { renderTemplate, TemplateRenderError } from "@flyte-agent/runtime/internal/propeller/template.js";
import { type TaskDefinition, isTaskDefinition } from "@flyte-agent/runtime/internal/task/define-task.js";
import { literalToPlain } from "@flyte-agent/runtime/internal/types/literal-to-plain.js";
import { durationToMs } from "@flyte-agent/runtime/internal/types/duration.js";
import { AgentRouter, type AgentRoute } from "./agent-router.js";
import { type ExecutorClock, RateLimiter, realClock } from "./clock.js";
import type { RpcObserver } from "./connection.js";
import { decodeErrorDocument } from "@flyte-agent/runtime/internal/propeller/error-document.js";
import type { ContractWarning, ExecutionEvent, ExecutionLogLink } from "./events.js";
import { type ExecutorSession, endpointConfig } from "./executor-session.js";
import { runStorage } from "@flyte-agent/runtime/internal/storage/run-storage.js";

/** What {@link executeTask} takes. */
export interface ExecuteTaskOptions {
  /** A task made by `defineTask`, or a raw template. */
  readonly task: TaskDefinition<any, any, any> | { readonly template: TaskTemplate };
  /** Plain values (validated with the task's input schemas) or a ready `LiteralMap`. @default {} */
  readonly inputs?: Record<string, unknown> | LiteralMap;
  /**
   * The agent server to drive (`host:port`, `dns:///host:port`), e.g. one started in-process by the
   * caller. Give this, `config` or `session`.
   */
  readonly endpoint?: string;
  /** Use TLS towards `endpoint`. @default false (plaintext, as FlytePropeller's default agent) */
  readonly tls?: boolean | TlsOptions;
  /** Route as FlytePropeller would from its `agent-service` / `connector-service` config. */
  readonly config?: PropellerAgentConfig;
  /**
   * Which executor's rules to follow: 1 for FlytePropeller 1.16.8's agent plugin (flyteidl.service),
   * 2 for Flyte 2's connector plugin (flyteidl2.connector: 10 s deadlines, connection secrets read
   * from TaskTemplate.custom, no sync service, no `state` fallback, (project, domain) routing). A
   * `config` then must be the one parsed with `parsePropellerConfig(text, source, { flyte: 2 })`.
   * @default 1
   */
  readonly flyte?: FlyteVersion;
  /**
   * Resolves a secret named in the connection (Flyte 2) to its value, where Flyte 2's executor asks
   * its secret manager. @default getAgentSecret(name, { local: true }): env `_FSEC_<NAME>`, env
   * `<NAME>`, then `/etc/secrets/<name>`, as agents read secrets in a local run
   */
  readonly resolveSecret?: (name: string) => Promise<string>;
  /** Per-RPC deadlines in ms for `endpoint` (with `config`, its timeouts apply). */
  readonly rpcTimeouts?: Partial<Record<RpcOperation, number>>;
  /** Deadline for operations without one in `rpcTimeouts`; 0 = none. @default 3 s, agent-service's */
  readonly defaultRpcTimeoutMs?: number;
  /** First wait between GetTask calls. @default 200 */
  readonly pollIntervalMs?: number;
  /** The wait grows by half each poll up to this. @default 2000 */
  readonly maxPollIntervalMs?: number;
  /**
   * Wait before retrying a failed GetTask; doubles per failure (1, 2, 4, 8, 16 s by default, so the
   * six failures FlytePropeller allows span 31 s and a 20 s agent restart is survived as on a
   * cluster, whose 30 s resync tick spaces them further still). Ignored with `propellerTiming`.
   * @default 1000
   */
  readonly errorBackoffMs?: number;
  /**
   * Poll as FlytePropeller does: first GetTask at once, then every `resyncInterval` (30s unless the
   * config says otherwise), errors included, through the shared 10 qps / burst 100 rate limiter.
   * @default false
   */
  readonly propellerTiming?: boolean;
  /**
   * Reproduce FlytePropeller's defect: after the GetTask failure budget is spent on a task that had
   * reported a phase, the task hangs (until the timeout or an interrupt) instead of failing.
   * @default false
   */
  readonly reproduceStuckTask?: boolean;
  /** Also report log-link / custom_info / message changes within a phase (the console does not show them). @default false */
  readonly midPhaseEvents?: boolean;
  /** @default the wall clock */
  readonly clock?: ExecutorClock;
  /**
   * The task timeout, applied as FlytePropeller applies a task's `timeout`: per attempt (DeleteTask,
   * then a retryable `TimeoutExpired`), plus an active deadline of twice it over all attempts
   * (`TimedOut`, not retried). Measured on `clock`. @default the template's timeout, else none
   */
  readonly timeoutMs?: number;
  /** Retries after a retryable failure, each with a new output prefix. @default the template's */
  readonly retries?: number;
  /** Aborting it interrupts the run: DeleteTask for a running task, then the result. */
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: ExecutionEvent) => void;
  /**
   * Directory (or URI of any registered storage provider, e.g. `s3://bucket/runs`) under which the
   * run's prefixes are made. @default a new temp directory
   */
  readonly outputDir?: string;
  /** Turn contract warnings into a failed result. @default false */
  readonly strict?: boolean;
  /**
   * Run over a session shared with other runs (one connection per deployment, one discovery loop,
   * one GetTask rate limiter, as in one FlytePropeller process). The session's endpoint or config,
   * TLS, deadlines and RPC observer then apply: passing `endpoint`, `config`, `tls`, `rpcTimeouts`,
   * `defaultRpcTimeoutMs` or `onRpc` as well is an error. The run does not close it.
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
  /**
   * Send a recorded request as it was: the template is not rendered again and every attempt carries
   * the recorded task execution metadata (then namespace, labels, annotations, env and service
   * account are unused). See `replayRequest`.
   */
  readonly replay?: ReplayedRequestParts;
}

/** {@link ExecuteTaskOptions.replay}: what a replayed request keeps from its record. */
export interface ReplayedRequestParts {
  /** @default metadata built as for any run, when the record has none */
  readonly taskExecutionMetadata: TaskExecutionMetadata | undefined;
  /** The output prefix of every attempt. @default one under the run directory, per attempt */
  readonly outputPrefix?: string;
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
      /** SYSTEM failures spend the system-retry budget instead of the task's retries. */
      readonly system?: boolean;
      readonly timeout?: boolean;
    }
  | { readonly kind: "aborted" }
  /** An interrupt whose DeleteTask failed: Propeller ends such a workflow FAILED. */
  | { readonly kind: "abort-failed"; readonly message: string };

interface Run {
  readonly o: ResolvedOptions;
  readonly template: TaskTemplate;
  readonly inputs: LiteralMap;
  readonly router: AgentRouter;
  readonly signal: AbortSignal;
  readonly warnings: ContractWarning[];
  readonly limiter: RateLimiter;
  readonly queuedAt: number;
  readonly deadlines: ReturnType<typeof taskDeadlines>;
  readonly profile: PropellerProfile;
  /** Where the task runs, for Flyte 2's (project, domain) routing. */
  readonly scope: { readonly project: string; readonly domain: string };
  /** Flyte 2: the attempt's connection, resolved at Create and sent again with Get and Delete. */
  connection: Connection | undefined;
  /** Handle rounds that failed (Status errors); Propeller gives the workflow up after 10. */
  failedRounds: number;
  emit(event: DistributiveOmit<ExecutionEvent, "elapsedMs">): void;
  warn(rule: string, message: string): void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface ResolvedOptions {
  readonly clock: ExecutorClock;
  readonly storage: typeof runStorage;
  readonly pollIntervalMs: number;
  readonly maxPollIntervalMs: number;
  readonly errorBackoffMs: number;
  readonly propellerTiming: boolean;
  readonly reproduceStuckTask: boolean;
  readonly midPhaseEvents: boolean;
  readonly strict: boolean;
  readonly profile: PropellerProfile;
  readonly resolveSecret: (name: string) => Promise<string>;
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
      ["endpoint", "config", "tls", "rpcTimeouts", "defaultRpcTimeoutMs", "onRpc"] as const
    ).filter((k) => options[k] !== undefined);
    if (clash.length > 0) {
      throw new FlyteAgentError(
        ErrorCode.INVALID_CONFIG,
        `${clash.join(", ")} cannot be combined with session: give them to ExecutorSession.create`,
      );
    }
    if (options.flyte !== undefined && options.flyte !== options.session.router.profile.flyte) {
      throw new FlyteAgentError(
        ErrorCode.INVALID_CONFIG,
        `the executor session follows Flyte ${options.session.router.profile.flyte}'s rules; create it with flyte: ${String(options.flyte)} instead`,
      );
    }
    if (options.session.isClosed)
      throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, "the executor session is closed");
  } else if (options.flyte !== undefined && options.flyte !== 1 && options.flyte !== 2) {
    throw new FlyteAgentError(ErrorCode.INVALID_CONFIG, `flyte must be 1 or 2, got ${String(options.flyte)}`);
  } else if (
    options.flyte === FlyteVersion.V2 &&
    options.config &&
    options.config.flavor !== "connector-service"
  ) {
    throw new FlyteAgentError(
      ErrorCode.INVALID_CONFIG,
      "Flyte 2's executor reads the connector-service section; this config is an agent-service one",
    );
  } else if (!options.endpoint && !options.config) {
    throw new FlyteAgentError(
      ErrorCode.INVALID_CONFIG,
      "executeTask needs an endpoint, a config or a session (to run agents in-process, start a server and pass its address, or use flyte-agent/testing's runThroughExecutor)",
    );
  }
  return {
    clock: options.clock ?? realClock,
    storage: runStorage,
    pollIntervalMs,
    maxPollIntervalMs: Math.max(
      pollIntervalMs,
      positive("maxPollIntervalMs", options.maxPollIntervalMs, 2000),
    ),
    errorBackoffMs: positive("errorBackoffMs", options.errorBackoffMs, 1000),
    propellerTiming: options.propellerTiming ?? false,
    reproduceStuckTask: options.reproduceStuckTask ?? false,
    midPhaseEvents: options.midPhaseEvents ?? false,
    strict: options.strict ?? false,
    profile: options.session?.router.profile ?? (options.flyte ? profileOf(options.flyte) : FLYTE1_PROFILE),
    resolveSecret: options.resolveSecret ?? ((name) => getAgentSecret(name, { local: true })),
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
): Record<string, unknown> {
  if (!literals) return {};
  if (isTaskDefinition(task)) return task.decodeOutputs(literals);
  const variables = template.interface?.outputs?.variables ?? {};
  return Object.fromEntries(
    Object.entries(literals.literals).map(([k, v]) => [k, literalToPlain(v, variables[k]?.type)]),
  );
}

const rpcText = (err: unknown) => {
  const e = err as Partial<RpcError>;
  return goRpcError(typeof e.code === "number" ? e.code : 2, e.details ?? (err as Error).message);
};

/**
 * Runs one task the way FlytePropeller 1.16 would (the rules live in `propeller/`): CreateTask then
 * GetTask until a terminal phase (or one ExecuteTaskSync call for sync agents), with Propeller's
 * request contents, deadlines, status mapping, output checks, failure budget, timeouts and retries,
 * over real gRPC against `endpoint`, `config` or a `session`.
 *
 * The result describes failures; it rejects only for bad options, unreadable inputs or no route.
 *
 * @example
 * ```ts
 * const result = await executeTask({ task: dailyTotals, inputs: { day: new Date() }, endpoint: "127.0.0.1:8000" });
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
  const onAbort = () => controller.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) controller.abort();
  const templateTimeout = baseTemplate.metadata?.timeout
    ? durationToMs(baseTemplate.metadata.timeout)
    : undefined;
  const timeoutMs =
    options.timeoutMs ?? (templateTimeout && templateTimeout > 0 ? templateTimeout : undefined);

  let ownRouter: AgentRouter | undefined;
  try {
    const config =
      options.session?.router.config ??
      options.config ??
      endpointConfig(options.endpoint!, {
        ...options,
        ...(o.profile.flyte === FlyteVersion.V2 ? { flavor: "connector-service" as const } : {}),
      });
    let router: AgentRouter;
    if (options.session) router = options.session.router;
    else {
      const tls = typeof options.tls === "object" ? options.tls : undefined;
      router = ownRouter = await AgentRouter.create(
        config,
        tls,
        options.onRpc ? { onRpc: options.onRpc } : undefined,
        o.profile,
      );
    }
    const category = { name: baseTemplate.type, version: baseTemplate.taskTypeVersion };
    const scope = { project: baseTemplate.id?.project ?? "", domain: baseTemplate.id?.domain ?? "" };
    const firstRoute = router.route(category, { scope });

    const runDir = options.outputDir
      ? /^[a-z][a-z0-9+.-]*:\/\//i.test(options.outputDir)
        ? options.outputDir
        : resolvePath(options.outputDir)
      : await mkdtemp(join(tmpdir(), "flyte-agent-run-"));
    const at = (...parts: string[]) => parts.reduce((prefix, p) => o.storage.join(prefix, p), runDir);
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
      warnings: [],
      limiter:
        options.session?.limiter ??
        new RateLimiter(config.readRateLimiter.qps, config.readRateLimiter.burst, o.clock),
      queuedAt: started,
      deadlines: taskDeadlines(timeoutMs),
      profile: o.profile,
      scope,
      connection: undefined,
      failedRounds: 0,
      emit: (event) => o.onEvent({ ...event, elapsedMs: o.clock.now() - started }),
      warn(rule, message) {
        if (this.warnings.some((w) => w.rule === rule && w.message === message)) return;
        this.warnings.push({ rule, message });
        this.emit({ type: "warning", rule, message });
      },
    };
    const executionText = `${id?.project ?? ""}/${id?.domain ?? ""}/${name}`;
    run.emit({
      type: "started",
      executionId: executionText,
      task: id?.name ?? baseTemplate.type,
      taskType: category.name,
      taskTypeVersion: category.version,
      endpoint: firstRoute.deployment.endpoint,
      deployment: firstRoute.deployment.id,
      sync: firstRoute.isSync,
      via: firstRoute.via,
    });
    for (const w of config.warnings) run.warn("config", `${w.key}: ${w.message}`);
    for (const w of router.warnings) run.warn(w.rule, w.message);

    const namespace = options.namespace ?? `${id?.project || "flytesnacks"}-${id?.domain || "development"}`;
    const retries = options.retries ?? baseTemplate.metadata?.retries?.retries ?? 0;
    const inputPrefix = at("inputs");
    await o.storage.write(o.storage.join(inputPrefix, "inputs.pb"), LiteralMap.encode(inputs).finish());
    const templatePath = at("task.pb");
    await o.storage.write(templatePath, TaskTemplate.encode(baseTemplate).finish());

    let attempt = 0;
    let systemRetries = 0;
    let outcome: AttemptOutcome;
    let outputPrefix: string;
    for (;;) {
      outputPrefix = options.replay?.outputPrefix ?? at(`attempt-${attempt}`);
      await o.storage.ensurePrefix(outputPrefix);
      run.emit({ type: "attempt", attempt, outputPrefix });
      const attemptStartedAt = o.clock.now();
      const attemptId = { ...executionId, retryAttempt: attempt };
      const expired = expiredDeadline(run.deadlines, attemptStartedAt, run.queuedAt, attemptStartedAt);
      if (expired) {
        outcome = {
          kind: "failed",
          phase: TaskExecutionPhase.FAILED,
          retryable: false,
          code: expired.code,
          message: expired.message,
          timeout: true,
        };
      } else {
        const raw = at("raw", `${name}-n0-${attempt}`);
        // A recorded template was rendered by the Propeller that sent it: rendering twice could change it.
        const rendered = (options.replay ? asRendered : render)(baseTemplate, {
          inputPrefix,
          inputPath: o.storage.join(inputPrefix, "inputs.pb"),
          outputPrefix,
          rawOutputDataPrefix: raw,
          perRetryUniqueKey: `${name}-n0-${attempt}`,
          taskTemplatePath: templatePath,
          checkpointOutputPrefix: o.storage.join(raw, "_flytecheckpoints"),
          prevCheckpointPrefix:
            attempt > 0 ? at("raw", `${name}-n0-${attempt - 1}`, "_flytecheckpoints") : "",
          namespace,
          inputs,
        });
        if ("failure" in rendered) outcome = rendered.failure;
        else {
          const metadata = buildTaskExecutionMetadata({
            taskExecutionId: attemptId,
            namespace,
            workflowName: `.flytegen.${id?.name ?? baseTemplate.type}`,
            interruptible: baseTemplate.metadata?.interruptible ?? false,
            labels: options.labels ?? {},
            annotations: options.annotations ?? {},
            k8sServiceAccount: options.serviceAccount ?? "default",
            environmentVariables: options.env ?? {},
            ...(baseTemplate.securityContext?.runAs ? { runAs: baseTemplate.securityContext.runAs } : {}),
          });
          const route = router.route(category, { scope });
          const sentMetadata = options.replay?.taskExecutionMetadata ?? metadata;
          const request = {
            template: rendered.template,
            outputPrefix,
            metadata: sentMetadata,
            attempt,
            attemptStartedAt,
          };
          const connected = await connect(run, rendered.template);
          outcome =
            "failure" in connected
              ? connected.failure
              : route.isSync
                ? await runSync(run, route, request)
                : await runAsync(run, category, request);
        }
      }
      if (outcome.kind === "failed") {
        const budgetLeft = outcome.system
          ? systemRetries < MAX_NODE_RETRIES_SYSTEM_FAILURES
          : attempt - systemRetries < retries;
        const willRetry = outcome.retryable && budgetLeft && !controller.signal.aborted;
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
          if (outcome.system) systemRetries += 1;
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
      executionId: executionText,
      durationMs: o.clock.now() - started,
    };
    const failed = (
      phase: string,
      code: string,
      message: string,
      interrupted?: "interrupted" | "timeout",
    ) => ({
      ...base,
      phase,
      succeeded: false,
      outputs: {},
      outputLiterals: undefined,
      message,
      code,
      interrupted,
    });
    if (outcome.kind === "aborted") return failed("ABORTED", "Interrupted", "interrupted", "interrupted");
    if (outcome.kind === "abort-failed")
      return failed("FAILED", FailureCode.WorkflowAbortFailed, outcome.message, "interrupted");
    if (outcome.kind === "failed") {
      return failed(
        phaseName(outcome.phase),
        outcome.code,
        outcome.message,
        outcome.timeout ? "timeout" : undefined,
      );
    }
    let outputs: Record<string, unknown> = {};
    try {
      outputs = decodeOutputs(options.task, baseTemplate, outcome.literals);
    } catch (err) {
      // Propeller does not check output literals against the interface: downstream nodes do.
      run.warn(
        "outputs-mismatch",
        `the outputs do not match the task's interface (${(err as Error).message}); FlytePropeller does not check them, so the task succeeds and a downstream task reading them fails`,
      );
    }
    if (o.strict && run.warnings.length > 0) {
      return {
        ...failed(
          "FAILED",
          "ContractWarning",
          `--strict: ${run.warnings.length} contract warning(s): ${[...new Set(run.warnings.map((w) => w.rule))].join(", ")}`,
        ),
        outputs,
        outputLiterals: outcome.literals,
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
    options.signal?.removeEventListener("abort", onAbort);
    ownRouter?.close();
  }
}

/**
 * Flyte 2: the attempt's connection, read from the template's custom with its secret names resolved
 * (main `connector/plugin.go:171-191`); either failure fails the create, retryably. Never logged.
 */
async function connect(
  run: Run,
  template: TaskTemplate,
): Promise<{ readonly ok: true } | { readonly failure: AttemptOutcome }> {
  run.connection = undefined;
  if (!run.profile.sendsConnection) return { ok: true };
  const failure = (message: string) => ({
    failure: {
      kind: "failed" as const,
      phase: TaskExecutionPhase.RETRYABLE_FAILED,
      retryable: true,
      code: FailureCode.TaskFailedWithError,
      message,
    },
  });
  let connection: Connection;
  try {
    connection = connectionFromCustom(template.custom);
  } catch (err) {
    if (!(err instanceof ConnectionReadError)) throw err;
    if (template.custom === undefined) {
      run.warn(
        "connection-custom-missing",
        "the task template has no custom: Flyte 2's executor reads the connection from TaskTemplate.custom and fails every create without one; give the task a config (even {})",
      );
    }
    return failure(connectionReadFailed(err.message));
  }
  const secrets: Record<string, string> = {};
  for (const [key, name] of Object.entries(connection.secrets)) {
    try {
      secrets[key] = await run.o.resolveSecret(name);
    } catch (err) {
      return failure(secretValueFailed((err as Error).message));
    }
  }
  run.connection = { ...connection, secrets };
  return { ok: true };
}

/** A template sent as it is (a replayed request's). */
function asRendered(template: TaskTemplate): { readonly template: TaskTemplate } {
  return { template };
}

/** The rendered template, or the failed create a render error makes (`agent/plugin.go:121-124`). */
function render(
  template: TaskTemplate,
  vars: Parameters<typeof renderTemplate>[1],
): { readonly template: TaskTemplate } | { readonly failure: AttemptOutcome } {
  try {
    return { template: renderTemplate(template, vars) };
  } catch (err) {
    if (!(err instanceof TemplateRenderError)) throw err;
    return {
      failure: {
        kind: "failed",
        phase: TaskExecutionPhase.RETRYABLE_FAILED,
        retryable: true,
        code: FailureCode.TaskFailedWithError,
        message: renderFailed(err.message),
      },
    };
  }
}

interface AttemptRequest {
  readonly template: TaskTemplate;
  readonly outputPrefix: string;
  readonly metadata: ReturnType<typeof buildTaskExecutionMetadata>;
  readonly attempt: number;
  readonly attemptStartedAt: number;
}

function logLinksOf(resource: ProtoResource): ExecutionLogLink[] {
  return resource.logLinks.map((l) => ({ name: l.name, uri: l.uri }));
}

function checkResponseSize(run: Run, bytes: number, what: string): void {
  const finding = responseSizeFinding(bytes, what);
  if (finding) run.warn(finding.rule, finding.message);
}

function phaseMessage(outcome: PhaseOutcome): string {
  return outcome.kind === "pending"
    ? outcome.reason
    : outcome.kind === "failed" || outcome.kind === "status-error"
      ? outcome.message
      : "";
}

/**
 * DeleteTask for an attempt being aborted. A failing DeleteTask fails the abort; Propeller retries it
 * every round and ends a workflow abort FAILED "Workflow abort failed" after max-workflow-retries.
 */
async function deleteTask(
  run: Run,
  category: { name: string; version: number },
  resourceMeta: Buffer,
  attempt: number,
  reason: "interrupted" | "timeout",
): Promise<string | undefined> {
  try {
    await run.router
      .route(category, { withinPlugin: true, scope: run.scope })
      .connection.deleteTask(
        { taskType: category.name, taskCategory: category, resourceMeta },
        run.connection,
      );
    run.emit({ type: "delete", attempt, reason, ok: true });
    return undefined;
  } catch (err) {
    run.emit({ type: "delete", attempt, reason, ok: false, error: (err as Error).message });
    return deleteFailed(rpcText(err), run.profile.noun);
  }
}

function abortFailedOutcome(deleteError: string): AttemptOutcome {
  return {
    kind: "abort-failed",
    message: `${deleteError}. FlytePropeller retries a failing abort every round and, after max-workflow-retries (${MAX_WORKFLOW_RETRIES}) rounds, ends the workflow FAILED ("${FailureCode.WorkflowAbortFailed}") instead of ABORTED: DeleteTask must succeed, also for unknown and finished jobs`,
  };
}

async function runAsync(
  run: Run,
  category: { name: string; version: number },
  req: AttemptRequest,
): Promise<AttemptOutcome> {
  const { o } = run;
  const { attempt, outputPrefix } = req;
  if (run.signal.aborted) return { kind: "aborted" };
  let resourceMeta: Buffer;
  try {
    const res = await run.router
      .route(category, { scope: run.scope })
      .connection.createTask(
        { inputs: run.inputs, template: req.template, outputPrefix, taskExecutionMetadata: req.metadata },
        run.connection,
      );
    checkResponseSize(run, res.bytes, "the CreateTask response");
    resourceMeta = res.value.resourceMeta;
  } catch (err) {
    // Any create error costs one retry; nothing was created, so nothing is deleted (W/launcher.go:16-19).
    return {
      kind: "failed",
      phase: TaskExecutionPhase.RETRYABLE_FAILED,
      retryable: true,
      code: FailureCode.TaskFailedWithError,
      message: createFailed(rpcText(err), run.profile.noun),
    };
  }
  run.emit({ type: "created", attempt, resourceMetaBytes: resourceMeta.length });

  const failures = new SyncFailureCount(run.router.config.maxSystemFailures);
  let seen = false;
  let lastPhase: number | undefined;
  let lastInfo = "";
  let delay = o.propellerTiming ? run.router.config.resyncIntervalMs : o.pollIntervalMs;
  let wait = 0;
  for (;;) {
    if (wait > 0) {
      const until = untilNextDeadline(run.deadlines, o.clock.now(), run.queuedAt, req.attemptStartedAt);
      await o.clock.sleep(Math.min(wait, until), run.signal);
    }
    if (run.signal.aborted) {
      const error = await deleteTask(run, category, resourceMeta, attempt, "interrupted");
      return error ? abortFailedOutcome(error) : { kind: "aborted" };
    }
    const expired = expiredDeadline(run.deadlines, o.clock.now(), run.queuedAt, req.attemptStartedAt);
    if (expired) {
      // The attempt is aborted (DeleteTask) and fails with TimeoutExpired, retried while retries
      // remain; the active deadline fails the node (`nodes/executor.go:862-881`).
      const error = await deleteTask(run, category, resourceMeta, attempt, "timeout");
      if (error) return abortFailedOutcome(error);
      return {
        kind: "failed",
        phase: expired.retryable ? TaskExecutionPhase.RETRYABLE_FAILED : TaskExecutionPhase.FAILED,
        retryable: expired.retryable,
        code: expired.code,
        message: expired.message,
        timeout: true,
      };
    }
    if (failures.exhausted) {
      // Polling has stopped: the attempt hangs until a deadline or an interrupt ends it.
      wait = 60_000;
      continue;
    }
    if (o.propellerTiming) await run.limiter.take(run.signal);
    await run.router.refreshIfDue(o.clock.now());
    let resource: ProtoResource;
    try {
      const res = await run.router
        .route(category, { withinPlugin: true, scope: run.scope })
        .connection.getTask(
          { taskType: category.name, taskCategory: category, resourceMeta, outputPrefix },
          run.connection,
        );
      checkResponseSize(run, res.bytes, "the GetTask response");
      resource = res.value.resource ?? emptyResource();
    } catch (err) {
      if (run.signal.aborted) continue;
      const e = err as RpcError;
      failures.recordError(getFailed(rpcText(err), run.profile.noun));
      const exhausted = failures.exhausted;
      const retryInMs = exhausted
        ? 0
        : o.propellerTiming
          ? delay
          : fastErrorBackoffMs(failures.failures, o.errorBackoffMs);
      run.emit({
        type: "get-error",
        attempt,
        code: e.codeName ?? "UNKNOWN",
        message: e.details ?? e.message,
        failures: failures.failures,
        budget: failures.budget,
        retryInMs,
      });
      if (!exhausted) {
        wait = retryInMs;
        continue;
      }
      const spent = budgetSpentOutcome(seen, failures.lastError);
      if (spent.kind === "failed") {
        return {
          kind: "failed",
          phase: TaskExecutionPhase.FAILED,
          retryable: false,
          code: spent.code,
          message: spent.message,
        };
      }
      run.warn(
        "get-failure-budget",
        `GetTask failed ${failures.failures} times in this attempt; FlytePropeller stops polling and the task stays in ${phaseName(lastPhase ?? 0)} forever (a FlytePropeller defect): keep GetTask fast and available`,
      );
      if (o.reproduceStuckTask) continue;
      return {
        kind: "failed",
        phase: TaskExecutionPhase.FAILED,
        retryable: false,
        code: FailureCode.AutoRefreshCacheFailed,
        message: `${failures.lastError} (GetTask failed ${failures.failures} times; on a cluster the task would hang in ${phaseName(lastPhase ?? 0)})`,
      };
    }
    seen = true;
    for (const f of resourceFindings(resource, "async", run.profile)) run.warn(f.rule, f.message);
    const outcome = mapResource(resource, "async", run.profile);
    const info = JSON.stringify([logLinksOf(resource), resource.customInfo ?? null, resource.message]);
    if (outcome.kind === "status-error") {
      // Status returned an error: the Handle round fails and is tried again; after
      // max-workflow-retries the workflow is given up and its cleanup aborts the task (DeleteTask).
      run.failedRounds += 1;
      run.emit({
        type: "phase",
        attempt,
        phase: "UNDEFINED",
        message: `${outcome.message} (round ${run.failedRounds} of ${MAX_WORKFLOW_RETRIES} fails and is retried)`,
        logLinks: logLinksOf(resource),
        customInfo: resource.customInfo,
      });
      if (run.failedRounds > MAX_WORKFLOW_RETRIES) {
        await deleteTask(run, category, resourceMeta, attempt, "interrupted");
        return {
          kind: "failed",
          phase: TaskExecutionPhase.FAILED,
          retryable: false,
          code: FailureCode.WorkflowAbortFailed,
          message: retriesExhausted(run.failedRounds, MAX_WORKFLOW_RETRIES, outcome.message),
        };
      }
    } else if (outcome.phase !== lastPhase) {
      run.emit({
        type: "phase",
        attempt,
        phase: phaseName(outcome.phase),
        message: phaseMessage(outcome),
        logLinks: logLinksOf(resource),
        customInfo: resource.customInfo,
      });
      lastPhase = outcome.phase;
      lastInfo = info;
    } else if (info !== lastInfo) {
      // Propeller records no event while phase and version stay the same (`nodes/task/handler.go:565-570`).
      if (o.midPhaseEvents) {
        run.emit({
          type: "info",
          attempt,
          logLinks: logLinksOf(resource),
          customInfo: resource.customInfo,
          visibleOnCluster: false,
        });
      }
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
    case "status-error":
      return undefined;
    case "failed":
      return {
        kind: "failed",
        phase: outcome.phase,
        retryable: outcome.retryable,
        code: outcome.code,
        message: outcome.message,
      };
    case "succeeded":
      return readOutputs(run, resource, outputPrefix);
  }
}

async function readOutputs(run: Run, resource: ProtoResource, outputPrefix: string): Promise<AttemptOutcome> {
  const { storage } = run.o;
  const declared = Object.keys(run.template.interface?.outputs?.variables ?? {});
  const outputsPath = storage.join(outputPrefix, "outputs.pb");
  const errorPath = storage.join(outputPrefix, "error.pb");
  const inline = declared.length > 0 && resource.outputs !== undefined;
  const errorBytes = declared.length > 0 && !inline ? await storage.read(errorPath) : undefined;
  const verdict = judgeOutputs({
    outputsDeclared: declared.length > 0,
    inlineOutputs: inline,
    errorDocument: errorBytes ? decodeErrorDocument(errorBytes) : undefined,
    errorDocumentBytes: errorBytes?.length,
    outputsFileBytes:
      declared.length > 0 && !inline && !errorBytes ? await storage.size(outputsPath) : undefined,
    outputsPath,
    errorPath,
    maxDownloadMBs: run.router.config.maxDownloadMBs,
  });
  if (verdict.kind === "system-error") {
    return {
      kind: "failed",
      phase: TaskExecutionPhase.FAILED,
      retryable: false,
      code: FailureCode.SystemError,
      message: verdict.message,
    };
  }
  if (verdict.kind === "failed") {
    if (verdict.code === "OutputsNotFound") {
      run.warn(
        "outputs-missing",
        `the agent reported SUCCEEDED without Resource.outputs and no ${outputsPath} exists, but the task declares outputs (${declared.join(", ")})`,
      );
    }
    return {
      kind: "failed",
      phase: verdict.retryable ? TaskExecutionPhase.RETRYABLE_FAILED : TaskExecutionPhase.FAILED,
      retryable: verdict.retryable,
      code: verdict.code,
      message: verdict.message,
      system: verdict.origin === "SYSTEM",
    };
  }
  if (verdict.source === "none") return { kind: "succeeded", literals: undefined };
  if (verdict.source === "inline") {
    const literals = resource.outputs!;
    const missing = declared.filter((n) => !(n in literals.literals));
    if (missing.length > 0) {
      run.warn(
        "outputs-missing",
        `Resource.outputs lacks declared output(s) ${missing.join(", ")}; FlytePropeller does not check this, and downstream nodes reading them fail`,
      );
    }
    // Propeller writes inline outputs to {output_prefix}/outputs.pb as they are.
    await storage.write(outputsPath, LiteralMap.encode(literals).finish());
    return { kind: "succeeded", literals };
  }
  // Propeller checks only the file's existence and size at task end; what is in it is reported here
  // as warnings, since downstream tasks are the first to read it.
  const bytes = (await storage.read(outputsPath)) ?? Buffer.alloc(0);
  let literals: LiteralMap;
  try {
    literals = LiteralMap.decode(bytes);
  } catch (err) {
    run.warn(
      "outputs-unreadable",
      `${outputsPath} is not a LiteralMap (${(err as Error).message}); FlytePropeller does not read it at task end, so the task succeeds and a downstream task reading it fails`,
    );
    return { kind: "succeeded", literals: undefined };
  }
  const missing = declared.filter((n) => !(n in literals.literals));
  if (missing.length > 0) {
    run.warn(
      "outputs-missing",
      `${outputsPath} lacks declared output(s) ${missing.join(", ")}; FlytePropeller does not read the file at task end, and downstream nodes reading them fail`,
    );
  }
  return { kind: "succeeded", literals };
}

async function runSync(run: Run, route: AgentRoute, req: AttemptRequest): Promise<AttemptOutcome> {
  for (;;) {
    if (run.signal.aborted) return { kind: "aborted" };
    let answer: SyncAnswer;
    try {
      const receipt = await route.connection.executeTaskSync(
        {
          header: {
            template: req.template,
            outputPrefix: req.outputPrefix,
            taskExecutionMetadata: req.metadata,
            maxDatasetSizeBytes: 0n,
          },
        },
        { inputs: run.inputs },
        run.signal,
      );
      if (receipt.first) checkResponseSize(run, receipt.bytes, "the ExecuteTaskSync response");
      answer = receipt.first ? { kind: "message", response: receipt.first } : { kind: "eof" };
    } catch (err) {
      if (run.signal.aborted) return { kind: "aborted" };
      const e = err as Partial<RpcError>;
      answer = { kind: "error", code: e.code ?? 2, details: e.details ?? (err as Error).message };
    }
    const verdict = syncVerdict(answer);
    if (verdict.kind === "create-failed") {
      return {
        kind: "failed",
        phase: TaskExecutionPhase.RETRYABLE_FAILED,
        retryable: true,
        code: verdict.code,
        message: verdict.message,
      };
    }
    const resource =
      answer.kind === "message" ? (answer.response.header?.resource ?? emptyResource()) : emptyResource();
    for (const f of resourceFindings(resource, "sync")) run.warn(f.rule, f.message);
    const outcome = verdict.outcome;
    if (outcome.kind === "status-error") {
      // Status fails inside the launch: the round fails and the next round sends ExecuteTaskSync
      // again, until max-workflow-retries (`W/launcher.go:24-36`).
      run.failedRounds += 1;
      run.emit({
        type: "phase",
        attempt: req.attempt,
        phase: "UNDEFINED",
        message: `${outcome.message} (round ${run.failedRounds} of ${MAX_WORKFLOW_RETRIES} fails; the next round calls ExecuteTaskSync again)`,
        logLinks: logLinksOf(resource),
        customInfo: resource.customInfo,
      });
      if (run.failedRounds > MAX_WORKFLOW_RETRIES) {
        return {
          kind: "failed",
          phase: TaskExecutionPhase.FAILED,
          retryable: false,
          code: FailureCode.WorkflowAbortFailed,
          message: retriesExhausted(run.failedRounds, MAX_WORKFLOW_RETRIES, outcome.message),
        };
      }
      continue;
    }
    run.emit({
      type: "phase",
      attempt: req.attempt,
      phase: phaseName(outcome.phase),
      message: phaseMessage(outcome),
      logLinks: logLinksOf(resource),
      customInfo: resource.customInfo,
    });
    if (verdict.kind === "stuck") {
      run.warn("sync-non-terminal", verdict.message);
      return {
        kind: "failed",
        phase: TaskExecutionPhase.FAILED,
        retryable: false,
        code: "SyncNonTerminal",
        message: verdict.message,
      };
    }
    return (await finish(run, outcome, resource, req.outputPrefix))!;
  }
}
