import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { formatCategory, type TaskCategory } from "@flyte-agent/runtime/internal/core/task-category.js";
import { phaseName } from "@flyte-agent/runtime/internal/core/phase.js";
import { isLiteralMap } from "@flyte-agent/runtime/internal/core/resource.js";
import type {
  Agent,
  CreateTaskRequest,
  GetTaskResponse,
  Resource as ProtoResource,
  TaskExecutionMetadata,
} from "@flyte-agent/runtime/internal/gen/flyteidl/admin/agent.js";
import { stateToJSON } from "@flyte-agent/runtime/internal/gen/flyteidl/admin/agent.js";
import { LiteralMap } from "@flyte-agent/runtime/internal/gen/flyteidl/core/literals.js";
import { TaskTemplate } from "@flyte-agent/runtime/internal/gen/flyteidl/core/tasks.js";
import { AgentClient, type Answer, RpcError, type TlsOptions } from "../client/agent-client.js";
import { ConnectorClient } from "../client/connector-client.js";
import { type Clock, realClock } from "@flyte-agent/runtime/internal/core/clock.js";
import { decodeErrorDocument } from "@flyte-agent/runtime/internal/propeller/error-document.js";
import { runStorage } from "@flyte-agent/runtime/internal/storage/run-storage.js";
import { storageSchemes, uriScheme } from "@flyte-agent/runtime/internal/storage/storage.js";
import {
  type AgentDeployment,
  deadlineFor,
  endpointConfig,
  type PropellerAgentConfig,
  type RpcOperation,
} from "@flyte-agent/runtime/internal/propeller/config.js";
import { MAX_GRPC_MESSAGE_BYTES } from "@flyte-agent/runtime/internal/propeller/defaults.js";
import { NEAR_LIMIT_BYTES } from "@flyte-agent/runtime/internal/propeller/findings.js";
import { buildTaskExecutionMetadata } from "@flyte-agent/runtime/internal/propeller/metadata.js";
import { judgeOutputs, maxPayloadBytes } from "@flyte-agent/runtime/internal/propeller/outputs.js";
import { FLYTE1_PROFILE, type PropellerProfile } from "@flyte-agent/runtime/internal/propeller/profile.js";
import { buildRegistry, lookupRoute } from "@flyte-agent/runtime/internal/propeller/registry.js";
import {
  type CallPath,
  emptyResource,
  mapResource,
  type PhaseOutcome,
} from "@flyte-agent/runtime/internal/propeller/status.js";
import { syncVerdict, type SyncAnswer } from "@flyte-agent/runtime/internal/propeller/sync.js";
import { renderTemplate, TemplateRenderError } from "@flyte-agent/runtime/internal/propeller/template.js";
import { isTaskDefinition, type TaskDefinition } from "@flyte-agent/runtime/internal/task/define-task.js";
import { checkConnectorServer } from "./check-connector.js";
import { type Polled, pollUntilTerminal, recordPolling } from "./poll.js";
import { bytes, codeOf, failureText, ms, probeDeadline, timing } from "./measure.js";
import { type CheckStatus, ConformanceRule, type ConformanceRuleId } from "./rules.js";

type Timed<T> = Answer<T>;
const CallFailure = RpcError;

/** What {@link checkConformance} takes. */
export interface ConformanceOptions {
  /**
   * The agent server (`host:port`, `dns:///host:port`, `k8s://svc.ns:port`). Give several replicas of
   * one deployment to also check that resource_meta from one is read alike by another.
   */
  readonly endpoint: string | readonly string[];
  /** TLS towards the endpoint. @default plaintext */
  readonly tls?: boolean | TlsOptions;
  /** A task to run through the lifecycle checks. Without it only the server-wide checks run. */
  readonly task?: TaskDefinition<any, any, any> | { readonly template: TaskTemplate };
  /** Plain values (validated by the task's schemas) or a ready `LiteralMap`. @default {} */
  readonly inputs?: Record<string, unknown> | LiteralMap;
  /**
   * Where the task's inputs and output prefix go. The server must be able to read and write it (a
   * local directory for a server on this machine, `s3://...` for a remote one).
   * @default a new temporary directory
   */
  readonly outputPrefix?: string;
  /** Wait between GetTask calls. @default 500 */
  readonly pollIntervalMs?: number;
  /** Give up on a task that has not reached a terminal phase after this long. @default 300000 */
  readonly taskTimeoutMs?: number;
  /** @default the wall clock */
  readonly clock?: Clock;
  /**
   * The FlytePropeller config whose default deployment's deadlines (and `maxDownloadMBs`) the answers
   * are judged by. @default agent-service's defaults: 3 s for every call
   */
  readonly config?: PropellerAgentConfig;
  /**
   * Which protocols to check: `"1"` Flyte 1 (`flyteidl.service`, FlytePropeller), `"2"` Flyte 2
   * (`flyteidl2.connector`), `"auto"` every protocol the server serves (at least one). A protocol whose
   * list call answers UNIMPLEMENTED is not served. @default "auto"
   */
  readonly flyte?: ConformanceProtocol;
  /**
   * The Flyte 2 connector-service config whose default deployment's deadlines the Flyte 2 answers are
   * judged by. @default connector-service's defaults: 10 s for every call
   */
  readonly connectorConfig?: PropellerAgentConfig;
  /**
   * Values of the secrets the task's Flyte 2 connection names (`TaskTemplate.custom.secrets`); a
   * secret without one gets a random value. @default {}
   */
  readonly secrets?: Readonly<Record<string, string>>;
  /** The server's log, searched for the connection's secret values after the checks. */
  readonly logFile?: string;
  /** Called with each check as soon as it is decided (for streaming output). */
  readonly onCheck?: (check: ConformanceCheck) => void;
}

/** Which protocols {@link checkConformance} checks. */
export const ConformanceProtocol = { FLYTE1: "1", FLYTE2: "2", AUTO: "auto" } as const;
export type ConformanceProtocol = (typeof ConformanceProtocol)[keyof typeof ConformanceProtocol];

/** Whether a server serves a protocol, as its list call answered. */
export type ProtocolState = "served" | "not-served" | "error" | "not-checked";

export type { CheckStatus } from "./rules.js";

/** One rule, its outcome and the evidence for it. */
export interface ConformanceCheck {
  /** The protocol the check is about: 1, 2, or undefined for server-wide checks (health, protocols). */
  readonly flyte?: 1 | 2;
  readonly id: ConformanceRuleId;
  readonly rule: string;
  readonly status: CheckStatus;
  readonly evidence: string;
}

/** The outcome of {@link checkConformance}. */
export interface ConformanceReport {
  readonly endpoint: string;
  /** No check failed. */
  readonly ok: boolean;
  readonly counts: Readonly<Record<CheckStatus, number>>;
  readonly checks: readonly ConformanceCheck[];
  readonly durationMs: number;
  /** What each protocol's list call answered (`not-checked` when another protocol was asked for). */
  readonly protocols: { readonly flyte1: ProtocolState; readonly flyte2: ProtocolState };
}

/** A listed task category with its agent. */
interface Served {
  readonly category: string;
  readonly agent: string;
  readonly isSync: boolean;
}

interface Ctx {
  readonly clients: readonly AgentClient[];
  readonly primary: AgentClient;
  readonly options: ConformanceOptions;
  readonly clock: Clock;
  /** The deployment whose deadlines apply. */
  readonly deployment: AgentDeployment;
  readonly config: PropellerAgentConfig;
  /** Propeller's deadline for an operation (0 = none). */
  deadline(op: RpcOperation): number;
  readonly storage: typeof runStorage;
  readonly pollIntervalMs: number;
  readonly taskTimeoutMs: number;
  readonly responses: { what: string; bytes: number }[];
  /** Temporary directories made for the run, removed at its end. */
  readonly cleanup: string[];
  record(id: ConformanceRuleId, status: CheckStatus, evidence: string, flyte?: 1 | 2): void;
}

function categoriesOf(agent: Agent): TaskCategory[] {
  return agent.supportedTaskCategories.length > 0
    ? agent.supportedTaskCategories
    : agent.supportedTaskTypes.map((name) => ({ name, version: 0 }));
}

/**
 * Checks an agent server, written in any language, against what FlytePropeller needs from it
 * (from what FlytePropeller 1.16's agent plugin does with each answer): health, ListAgents and GetAgent, NOT_FOUND
 * for unknown categories, and — given a task — the whole lifecycle: CreateTask (twice), GetTask until
 * a terminal phase, GetTask idempotence, DeleteTask on finished jobs, or one ExecuteTaskSync for sync
 * agents, with outputs, response sizes and answer times judged against propeller's deadlines.
 *
 * Never throws for a misbehaving server: every finding is a check in the report.
 */
export async function checkConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const endpoints = typeof options.endpoint === "string" ? [options.endpoint] : [...options.endpoint];
  const [first] = endpoints;
  if (first === undefined) throw new Error("checkConformance needs at least one endpoint");
  const clock = options.clock ?? realClock;
  const started = clock.now();
  const checks: ConformanceCheck[] = [];
  // Any size is accepted, so an answer over gRPC's 4 MiB limit is measured and reported.
  const clients = endpoints.map(
    (e) => new AgentClient(e, { tls: options.tls ?? false, maxReceiveMessageBytes: -1 }),
  );
  const config = options.config ?? endpointConfig(first);
  const deployment = config.defaultAgent ?? endpointConfig(first).defaultAgent!;
  const ctx: Ctx = {
    clients,
    primary: clients[0]!,
    options,
    clock,
    deployment,
    config,
    deadline: (op) => deadlineFor(deployment, op),
    storage: runStorage,
    pollIntervalMs: options.pollIntervalMs ?? 500,
    taskTimeoutMs: options.taskTimeoutMs ?? 300_000,
    responses: [],
    cleanup: [],
    record(id, status, evidence, flyte) {
      const check: ConformanceCheck = {
        ...(flyte ? { flyte } : {}),
        id,
        rule: ConformanceRule[id],
        status,
        evidence,
      };
      checks.push(check);
      options.onCheck?.(check);
    },
  };
  const v1: Ctx = { ...ctx, record: (id, status, evidence) => ctx.record(id, status, evidence, 1) };
  const connectors = new ConnectorClient(first, { tls: options.tls ?? false, maxReceiveMessageBytes: -1 });
  let protocols: ConformanceReport["protocols"] = { flyte1: "not-checked", flyte2: "not-checked" };
  try {
    await checkHealth(ctx);
    const found = await detectProtocols(ctx, connectors, options.flyte ?? ConformanceProtocol.AUTO);
    protocols = found.states;
    if (found.run.flyte1) {
      const served = await checkListAgents(v1);
      if (served) {
        await checkGetAgent(v1, served.agents);
        await checkUnknownCategory(v1);
        if (options.task) await checkTask(v1, served.list, served.agents);
        checkResponseSizes(v1);
      }
    }
    if (found.run.flyte2) {
      await checkConnectorServer({
        client: connectors,
        clock,
        config: options.connectorConfig ?? endpointConfig(first, { flavor: "connector-service" }),
        pollIntervalMs: ctx.pollIntervalMs,
        taskTimeoutMs: ctx.taskTimeoutMs,
        template: options.task ? templateOf(options.task) : undefined,
        secrets: options.secrets ?? {},
        logFile: options.logFile,
        prepareRequest: (template) => prepareRequest(ctx, template),
        checkResult: (request, resource, profile, ids) =>
          checkResult(ctx, request, resource, "async", profile, ids, 2),
        record: (id, status, evidence) => ctx.record(id, status, evidence, 2),
      });
    }
  } finally {
    for (const c of clients) c.close();
    connectors.close();
    await Promise.all(ctx.cleanup.map((dir) => rm(dir, { recursive: true, force: true })));
  }
  const counts = { pass: 0, fail: 0, warn: 0, skip: 0 };
  for (const c of checks) counts[c.status] += 1;
  return {
    endpoint: first,
    ok: counts.fail === 0,
    counts,
    checks,
    durationMs: clock.now() - started,
    protocols,
  };
}

/**
 * Which protocols the server serves: each list call (ListAgents, ListConnectors) is asked once;
 * UNIMPLEMENTED means the protocol is not served, any other error that it is served but failing
 * (its checks then say how), unless both fail alike — then the server is not reachable.
 */
async function detectProtocols(
  ctx: Ctx,
  connectors: ConnectorClient,
  wanted: ConformanceProtocol,
): Promise<{ states: ConformanceReport["protocols"]; run: { flyte1: boolean; flyte2: boolean } }> {
  const ask = async (call: () => Promise<unknown>): Promise<{ state: ProtocolState; detail: string }> => {
    try {
      await call();
      return { state: "served", detail: "" };
    } catch (err) {
      return {
        state: codeOf(err) === "UNIMPLEMENTED" ? "not-served" : "error",
        detail: failureText(err),
      };
    }
  };
  const deadline = { deadlineMs: probeDeadline(ctx.deadline("ListAgents")) };
  const want1 = wanted !== ConformanceProtocol.FLYTE2;
  const want2 = wanted !== ConformanceProtocol.FLYTE1;
  const none = { state: "not-checked" as ProtocolState, detail: "" };
  const [one, two] = await Promise.all([
    want1 ? ask(() => ctx.primary.listAgents(deadline)) : none,
    want2 ? ask(() => connectors.listConnectors(deadline)) : none,
  ]);
  const states = { flyte1: one.state, flyte2: two.state };
  const describe = (label: string, list: string, r: { state: ProtocolState; detail: string }) =>
    r.state === "served"
      ? `${label} is served (${list} answered)`
      : r.state === "not-served"
        ? `${label} is not served (${list}: ${r.detail})`
        : r.state === "error"
          ? `${label}: ${list} failed (${r.detail})`
          : `${label} not checked`;
  const said = [
    describe("Flyte 1 (flyteidl.service)", "ListAgents", one),
    describe("Flyte 2 (flyteidl2.connector)", "ListConnectors", two),
  ].join("; ");
  const anyServed = one.state === "served" || two.state === "served";
  // A protocol that fails other than UNIMPLEMENTED is checked when the server answers otherwise.
  const run = {
    flyte1: one.state === "served" || (one.state === "error" && anyServed),
    flyte2: two.state === "served" || (two.state === "error" && anyServed),
  };
  let ok: boolean;
  if (wanted === ConformanceProtocol.FLYTE1) ok = one.state === "served";
  else if (wanted === ConformanceProtocol.FLYTE2) ok = two.state === "served";
  else ok = anyServed;
  const asked =
    wanted === ConformanceProtocol.AUTO
      ? "at least one protocol"
      : `Flyte ${wanted} (asked with --flyte ${wanted})`;
  ctx.record("protocols", ok ? "pass" : "fail", ok ? said : `${said}: the server must serve ${asked}`);
  return { states, run };
}

async function checkHealth(ctx: Ctx): Promise<void> {
  try {
    // A Kubernetes probe gives up after 1 s by default (timeoutSeconds).
    const res = await ctx.primary.health({ deadlineMs: 1_000 });
    ctx.record(
      "health",
      res.value.status === "SERVING" ? "pass" : "fail",
      `reports ${res.value.status} (${ms(res.ms)})`,
    );
  } catch (err) {
    const unimplemented = err instanceof CallFailure && err.codeName === "UNIMPLEMENTED";
    ctx.record(
      "health",
      unimplemented ? "warn" : "fail",
      unimplemented
        ? "the server has no grpc.health.v1 service: FlytePropeller does not need it, but Kubernetes probes cannot tell whether it serves"
        : failureText(err),
    );
  }
}

async function checkListAgents(
  ctx: Ctx,
): Promise<{ agents: readonly Agent[]; list: readonly Served[] } | undefined> {
  let res: Timed<{ agents: Agent[] }>;
  try {
    res = await ctx.primary.listAgents({ deadlineMs: probeDeadline(ctx.deadline("ListAgents")) });
  } catch (err) {
    ctx.record(
      "list-agents",
      "fail",
      `${failureText(err)}; FlytePropeller routes nothing to a server whose ListAgents fails`,
    );
    return undefined;
  }
  ctx.responses.push({ what: "ListAgents", bytes: res.bytes });
  const list: Served[] = res.value.agents.flatMap((agent) =>
    categoriesOf(agent).map((c) => ({
      category: formatCategory(c),
      agent: agent.name,
      isSync: agent.isSync,
    })),
  );
  const summary = res.value.agents
    .map(
      (a) =>
        `${a.name || "(no name)"} (${a.isSync ? "sync" : "async"}: ${categoriesOf(a).map(formatCategory).join(", ") || "no categories"})`,
    )
    .join("; ");
  const status = list.length === 0 ? "fail" : timing(res.ms, ctx.deadline("ListAgents"));
  ctx.record(
    "list-agents",
    status,
    list.length === 0
      ? `answered in ${ms(res.ms)} but lists no task category: FlytePropeller routes nothing here`
      : `answered in ${ms(res.ms)}: ${summary}`,
  );
  const deprecated = res.value.agents.filter(
    (a) => a.supportedTaskCategories.length === 0 && a.supportedTaskTypes.length > 0,
  );
  const names = list.map((s) => s.category);
  const dupes = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
  const registry = buildRegistry(endpointConfig(ctx.primary.endpoint), [
    { deployment: ctx.deployment, agents: res.value.agents },
  ]);
  const lost = registry.warnings.map((w) => w.message);
  ctx.record(
    "list-agents.unique",
    dupes.length > 0 || lost.length > 0 ? "fail" : deprecated.length > 0 ? "warn" : "pass",
    lost.length > 0 && dupes.length === 0
      ? lost.join("; ")
      : dupes.length > 0
        ? `listed more than once: ${dupes
            .map(
              (d) =>
                `${d} by ${list
                  .filter((s) => s.category === d)
                  .map((s) => s.agent)
                  .join(" and ")}`,
            )
            .join("; ")}${lost.length > 0 ? `; ${lost.join("; ")}` : ""}`
        : deprecated.length > 0
          ? `${deprecated.map((a) => a.name).join(", ")} list only the deprecated supported_task_types, which FlytePropeller routes at version 0`
          : `${names.length} categories, each listed once`,
  );
  return { agents: res.value.agents, list };
}

async function checkGetAgent(ctx: Ctx, agents: readonly Agent[]): Promise<void> {
  const problems: string[] = [];
  for (const listed of agents) {
    try {
      const res = await ctx.primary.getAgent(listed.name, {
        deadlineMs: probeDeadline(ctx.deadline("ListAgents")),
      });
      ctx.responses.push({ what: "GetAgent", bytes: res.bytes });
      const got = res.value.agent;
      if (!got) {
        problems.push(`GetAgent("${listed.name}") answered without an agent`);
        continue;
      }
      const want = categoriesOf(listed).map(formatCategory).sort();
      const have = categoriesOf(got).map(formatCategory).sort();
      if (got.name !== listed.name) problems.push(`GetAgent("${listed.name}") named it "${got.name}"`);
      if (got.isSync !== listed.isSync)
        problems.push(
          `GetAgent("${listed.name}") says is_sync=${got.isSync}, ListAgents says ${listed.isSync}`,
        );
      if (!isDeepStrictEqual(want, have))
        problems.push(
          `GetAgent("${listed.name}") lists ${have.join(", ") || "nothing"}, ListAgents ${want.join(", ")}`,
        );
    } catch (err) {
      problems.push(`GetAgent("${listed.name}") failed: ${failureText(err)}`);
    }
  }
  // FlytePropeller never calls GetAgent, so a bad answer is only a warning.
  ctx.record(
    "get-agent",
    problems.length > 0 ? "warn" : "pass",
    problems.length > 0
      ? `${problems.join("; ")} (FlytePropeller never calls GetAgent; other clients may)`
      : `${agents.length} agent(s) match ListAgents`,
  );

  const unknown = `conformance-no-such-agent-${randomBytes(4).toString("hex")}`;
  try {
    await ctx.primary.getAgent(unknown, { deadlineMs: probeDeadline(ctx.deadline("ListAgents")) });
    ctx.record(
      "get-agent.unknown",
      "warn",
      `GetAgent("${unknown}") answered OK (FlytePropeller never calls GetAgent)`,
    );
  } catch (err) {
    const ok = err instanceof CallFailure && err.codeName === "NOT_FOUND";
    ctx.record(
      "get-agent.unknown",
      ok ? "pass" : "warn",
      `GetAgent("${unknown}"): ${failureText(err)}${ok ? "" : " (FlytePropeller never calls GetAgent)"}`,
    );
  }
}

async function checkUnknownCategory(ctx: Ctx): Promise<void> {
  const category = { name: `conformance-unknown-${randomBytes(4).toString("hex")}`, version: 0 };
  const base = ctx.options.task ? templateOf(ctx.options.task) : TaskTemplate.fromPartial({});
  const template: TaskTemplate = { ...base, type: category.name, taskTypeVersion: 0 };
  const meta = Buffer.from("{}");
  const deadline = { deadlineMs: probeDeadline(ctx.deadline("CreateTask")) };
  const calls: [string, () => Promise<unknown>][] = [
    [
      "CreateTask",
      () =>
        ctx.primary.createTask(
          { inputs: { literals: {} }, template, outputPrefix: "", taskExecutionMetadata: undefined },
          deadline,
        ),
    ],
    [
      "GetTask",
      () =>
        ctx.primary.getTask(
          { taskType: category.name, taskCategory: category, resourceMeta: meta, outputPrefix: "" },
          deadline,
        ),
    ],
    [
      "DeleteTask",
      () =>
        ctx.primary.deleteTask(
          { taskType: category.name, taskCategory: category, resourceMeta: meta },
          deadline,
        ),
    ],
  ];
  const seen: string[] = [];
  let ok = true;
  for (const [name, call] of calls) {
    try {
      await call();
      ok = false;
      seen.push(`${name} OK`);
    } catch (err) {
      const code = err instanceof CallFailure ? err.codeName : "error";
      if (code !== "NOT_FOUND") ok = false;
      seen.push(code === "NOT_FOUND" ? `${name} NOT_FOUND` : `${name} ${failureText(err)}`);
    }
  }
  ctx.record("unknown-category", ok ? "pass" : "fail", `for ${formatCategory(category)}: ${seen.join(", ")}`);
}

function templateOf(task: NonNullable<ConformanceOptions["task"]>): TaskTemplate {
  return isTaskDefinition(task) ? task.template() : (task as { readonly template: TaskTemplate }).template;
}

function inputsOf(options: ConformanceOptions): LiteralMap {
  const { task, inputs } = options;
  if (inputs !== undefined && isLiteralMap(inputs)) return inputs;
  if (task && isTaskDefinition(task)) return task.encodeInputs(inputs ?? {});
  return { literals: {} };
}

/** The request FlytePropeller would send for attempt 0 of the task, with inputs.pb written. */
async function prepareRequest(ctx: Ctx, template: TaskTemplate): Promise<CreateTaskRequest | string> {
  const { storage } = ctx;
  let base = ctx.options.outputPrefix;
  if (base === undefined) {
    base = await mkdtemp(join(tmpdir(), "flyte-agent-conformance-"));
    ctx.cleanup.push(base);
  }
  const name = `c${randomBytes(10).toString("hex").slice(0, 19)}`;
  const run = storage.join(base, name);
  const inputPrefix = storage.join(run, "inputs");
  const outputPrefix = storage.join(run, "attempt-0");
  const inputs = inputsOf(ctx.options);
  await storage.write(storage.join(inputPrefix, "inputs.pb"), LiteralMap.encode(inputs).finish());
  const templatePath = storage.join(run, "task.pb");
  await storage.write(templatePath, TaskTemplate.encode(template).finish());
  await storage.ensurePrefix(outputPrefix);
  const id = template.id;
  const namespace = `${id?.project || "flytesnacks"}-${id?.domain || "development"}`;
  const raw = storage.join(storage.join(run, "raw"), `${name}-n0-0`);
  let rendered: TaskTemplate;
  try {
    rendered = renderTemplate(template, {
      inputPrefix,
      inputPath: storage.join(inputPrefix, "inputs.pb"),
      outputPrefix,
      rawOutputDataPrefix: raw,
      perRetryUniqueKey: `${name}-n0-0`,
      taskTemplatePath: templatePath,
      checkpointOutputPrefix: storage.join(raw, "_flytecheckpoints"),
      prevCheckpointPrefix: "",
      namespace,
      inputs,
    });
  } catch (err) {
    if (err instanceof TemplateRenderError) return err.message;
    throw err;
  }
  const metadata: TaskExecutionMetadata = buildTaskExecutionMetadata({
    taskExecutionId: {
      taskId: id,
      nodeExecutionId: {
        nodeId: "n0",
        executionId: { project: id?.project ?? "", domain: id?.domain ?? "", name, org: id?.org ?? "" },
      },
      retryAttempt: 0,
    },
    namespace,
    workflowName: `.flytegen.${id?.name ?? template.type}`,
    interruptible: template.metadata?.interruptible ?? false,
    k8sServiceAccount: "default",
    ...(template.securityContext?.runAs ? { runAs: template.securityContext.runAs } : {}),
  });
  return { inputs, template: rendered, outputPrefix, taskExecutionMetadata: metadata };
}

async function checkTask(ctx: Ctx, served: readonly Served[], agents: readonly Agent[]): Promise<void> {
  const template = templateOf(ctx.options.task!);
  const category = { name: template.type, version: template.taskTypeVersion };
  // Route as Propeller's registry would, with this server as the default deployment.
  const registry = buildRegistry(ctx.config, [{ deployment: ctx.deployment, agents }]);
  const found = lookupRoute(registry, ctx.config, category, ctx.config.pluginTaskTypes);
  const listed = served.find((s) => s.category === formatCategory(category));
  const kept = registry.routes.get(category.name);
  if (found.kind !== "route") ctx.record("task.listed", "fail", found.message);
  else if (!listed || found.route.via !== "discovery" || kept?.version !== category.version)
    ctx.record(
      "task.listed",
      "fail",
      `${formatCategory(category)} is not in FlytePropeller's registry (listed: ${served.map((s) => s.category).join(", ") || "nothing"}); FlytePropeller sends it to its default agent as an async task`,
    );
  else
    ctx.record(
      "task.listed",
      "pass",
      `${formatCategory(category)} is served by ${listed.agent} (${listed.isSync ? "sync" : "async"})`,
    );
  const request = await prepareRequest(ctx, template);
  if (typeof request === "string") {
    ctx.record(
      "create",
      "fail",
      `FlytePropeller cannot render the task's args (failed to render args with error: ${request}), so every create fails (retryable)`,
    );
    return;
  }
  const isSync = found.kind === "route" && found.route.isSync;
  if (isSync) await checkSyncTask(ctx, request);
  else await checkAsyncTask(ctx, request, category, listed !== undefined);
}

const wrongPathCodes = new Set(["UNIMPLEMENTED", "FAILED_PRECONDITION"]);

async function checkSyncTask(ctx: Ctx, request: CreateTaskRequest): Promise<void> {
  const deadline = ctx.deadline("ExecuteTaskSync");
  let answer: SyncAnswer;
  let tookMs: number;
  try {
    // One message is read, then the stream is cancelled, as FlytePropeller does.
    const receipt = await ctx.primary.executeTaskSync(
      {
        header: {
          template: request.template,
          outputPrefix: request.outputPrefix,
          taskExecutionMetadata: request.taskExecutionMetadata,
          maxDatasetSizeBytes: 0n,
        },
      },
      { inputs: request.inputs },
      { deadlineMs: probeDeadline(deadline) },
    );
    tookMs = receipt.ms;
    if (receipt.first) ctx.responses.push({ what: "ExecuteTaskSync", bytes: receipt.bytes });
    answer = receipt.first ? { kind: "message", response: receipt.first } : { kind: "eof" };
  } catch (err) {
    const code = err instanceof CallFailure ? err.codeName : "";
    ctx.record(
      "is-sync",
      wrongPathCodes.has(code) ? "fail" : "skip",
      wrongPathCodes.has(code)
        ? `ListAgents says sync, but ExecuteTaskSync answered ${failureText(err)}`
        : "ExecuteTaskSync failed, so the path could not be confirmed",
    );
    ctx.record(
      "sync.header",
      "fail",
      `ExecuteTaskSync failed: ${failureText(err)} (FlytePropeller: a retryable failure)`,
    );
    return;
  }
  ctx.record("is-sync", "pass", `listed as sync and answered ExecuteTaskSync`);
  ctx.record(
    "sync.deadline",
    timing(tookMs, deadline),
    `the first message came after ${ms(tookMs)} (deadline ${deadline / 1000} s)`,
  );
  const verdict = syncVerdict(answer);
  const resource = answer.kind === "message" ? answer.response.header?.resource : undefined;
  ctx.record(
    "sync.header",
    resource ? "pass" : "fail",
    resource
      ? `the first message carries header.resource`
      : answer.kind === "eof"
        ? `the server ended the stream without a message (FlytePropeller: "${verdict.kind === "create-failed" ? verdict.message : ""}", a retryable failure)`
        : answer.kind === "message" && answer.response.header
          ? "the header carries no resource: FlytePropeller reads an empty Resource, a retryable failure"
          : `the first message carries no header (FlytePropeller: "expected header in the response, but got none", a retryable failure)`,
  );
  if (!resource) return;
  checkPhases(ctx, [{ what: "the ExecuteTaskSync header", resource }], "sync");
  ctx.record(
    "sync.terminal",
    verdict.kind === "stuck" ? "fail" : "pass",
    verdict.kind === "stuck" ? verdict.message : `phase ${phaseName(resource.phase)}`,
  );
  await checkResult(ctx, request, resource, "sync");
}

/** GetTask until a terminal phase, FlytePropeller's failure budget or the timeout. */
function pollTask(
  ctx: Ctx,
  request: CreateTaskRequest,
  category: TaskCategory,
  resourceMeta: Buffer,
): Promise<Polled<GetTaskResponse>> {
  return pollUntilTerminal({
    clock: ctx.clock,
    pollIntervalMs: ctx.pollIntervalMs,
    taskTimeoutMs: ctx.taskTimeoutMs,
    maxSystemFailures: ctx.config.maxSystemFailures,
    getTask: async () => {
      const res = await ctx.primary.getTask(
        { taskType: category.name, taskCategory: category, resourceMeta, outputPrefix: request.outputPrefix },
        { deadlineMs: probeDeadline(ctx.deadline("GetTask")) },
      );
      ctx.responses.push({ what: "GetTask", bytes: res.bytes });
      return res;
    },
    resourceOf: (res) => res.value.resource,
    exhausted: (failures, answers, lastError) => {
      const last = answers.at(-1)?.value.resource;
      return last
        ? `GetTask failed ${failures} times (${answers.length} answers in between; FlytePropeller never resets its count): it stops polling and the task hangs in ${phaseName(last.phase)} forever (last error: ${lastError})`
        : `GetTask failed ${failures} times before any answer: FlytePropeller fails the task with AutoRefreshCacheFailed (last error: ${lastError})`;
    },
  });
}

async function checkAsyncTask(
  ctx: Ctx,
  request: CreateTaskRequest,
  category: TaskCategory,
  listed: boolean,
): Promise<void> {
  const createDeadline = ctx.deadline("CreateTask");
  let created: Timed<{ resourceMeta: Buffer }>;
  try {
    created = await ctx.primary.createTask(request, { deadlineMs: probeDeadline(createDeadline) });
  } catch (err) {
    const code = err instanceof CallFailure ? err.codeName : "";
    if (listed && wrongPathCodes.has(code))
      ctx.record("is-sync", "fail", `ListAgents says async, but CreateTask answered ${failureText(err)}`);
    ctx.record(
      "create",
      "fail",
      `${failureText(err)} (FlytePropeller: a retryable failure that costs a retry)`,
    );
    return;
  }
  if (listed) ctx.record("is-sync", "pass", "listed as async and answered CreateTask");
  ctx.responses.push({ what: "CreateTask", bytes: created.bytes });
  const meta = created.value.resourceMeta;
  const createStatus = timing(created.ms, createDeadline);
  ctx.record(
    "create",
    meta.length === 0 && createStatus === "pass" ? "warn" : createStatus,
    `answered in ${ms(created.ms)} (deadline ${createDeadline / 1000} s) with ${meta.length === 0 ? "an empty resource_meta: GetTask will get nothing to find the job by" : `resource_meta of ${bytes(meta.length)}`}`,
  );

  let repeated: Timed<{ resourceMeta: Buffer }> | undefined;
  let repeatError: string | undefined;
  try {
    repeated = await ctx.primary.createTask(request, { deadlineMs: probeDeadline(createDeadline) });
    ctx.responses.push({ what: "CreateTask", bytes: repeated.bytes });
  } catch (err) {
    repeatError = failureText(err);
  }

  const [first, second] = await Promise.all([
    pollTask(ctx, request, category, meta),
    repeated ? pollTask(ctx, request, category, repeated.value.resourceMeta) : undefined,
  ]);

  checkPhases(
    ctx,
    [first, second].flatMap((p, job) =>
      (p?.answers ?? []).map((a, i) => ({
        what: `GetTask #${i + 1}${job ? " of the repeated job" : ""}`,
        resource: a.value.resource,
      })),
    ),
    "async",
  );
  const gets = [...first.answers, ...(second?.answers ?? [])];
  recordPolling(
    (id, status, evidence) => ctx.record(id, status, evidence),
    { deadline: "get.deadline", terminal: "get.terminal" },
    first,
    gets,
    ctx.deadline("GetTask"),
    (errors) =>
      ` and ${errors} error(s), within FlytePropeller's budget of ${ctx.config.maxSystemFailures + 1}`,
  );
  if (repeatError) ctx.record("create.repeat", "fail", `the same CreateTask again answered ${repeatError}`);
  else if (first.final && second) {
    const same = second.final?.phase === first.final.phase;
    ctx.record(
      "create.repeat",
      same ? "pass" : "fail",
      same
        ? `answered OK again; both jobs ended ${phaseName(first.final.phase)}`
        : `the first job ended ${phaseName(first.final.phase)}, the repeated one ${second.final ? phaseName(second.final.phase) : second.error}`,
    );
  } else ctx.record("create.repeat", "skip", "the first job did not reach a terminal phase");

  if (!first.final) {
    ctx.record("get.idempotent", "skip", "the job did not reach a terminal phase");
  } else {
    await checkIdempotentGet(ctx, request, category, meta, first.answers.at(-1)!.value);
    await checkResult(ctx, request, first.final, "async");
  }
  await checkDelete(
    ctx,
    category,
    [meta, ...(repeated ? [repeated.value.resourceMeta] : [])],
    first.final !== undefined,
  );
  await checkCrossReplica(
    ctx,
    request,
    category,
    meta,
    first.final ? first.answers.at(-1)!.value : undefined,
  );
}

function describeOutcome(outcome: PhaseOutcome): string {
  if (outcome.kind === "failed") return outcome.retryable ? "a retryable failure" : "a permanent failure";
  return outcome.kind === "status-error"
    ? `an error that fails every round (${outcome.message})`
    : `${outcome.kind} (${phaseName(outcome.phase)})`;
}

function checkPhases(
  ctx: Ctx,
  resources: readonly { what: string; resource: ProtoResource | undefined }[],
  path: CallPath,
): void {
  const unset = resources.filter((r) => !r.resource || (r.resource.phase as number) === 0);
  const bad = unset[0];
  if (!bad) {
    ctx.record("phase", "pass", `${resources.length} Resource(s), each with a phase`);
    return;
  }
  const resource = bad.resource ?? emptyResource();
  ctx.record(
    "phase",
    "fail",
    `${bad.what} ${bad.resource ? `has no phase (deprecated state ${stateToJSON(resource.state)}${path === "sync" ? ", which FlytePropeller never reads on the sync path" : ""})` : "has no Resource"}: FlytePropeller reads it as ${describeOutcome(mapResource(resource, path))}; ${unset.length} of ${resources.length} answers lack a phase`,
  );
}

/** Names, sizes and modification times under a local prefix; undefined for other stores. */
async function snapshot(prefix: string): Promise<string | undefined> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(prefix) && !prefix.startsWith("file://")) return undefined;
  const root = prefix.startsWith("file://") ? fileURLToPath(prefix) : prefix;
  const entries: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const path = join(dir, name);
      const s = await stat(path);
      if (s.isDirectory()) await walk(path);
      else entries.push(`${path.slice(root.length)} ${s.size} ${s.mtimeMs}`);
    }
  };
  await walk(root);
  return entries.join("\n");
}

/**
 * The Resource fields in which two GetTask answers differ, as far as FlytePropeller reads them: it
 * drops agent_error on GetTask and reads the deprecated state only when phase is unset.
 */
function differingFields(a: GetTaskResponse, b: GetTaskResponse): string[] {
  const ra = (a.resource ?? {}) as unknown as Record<string, unknown>;
  const rb = (b.resource ?? {}) as unknown as Record<string, unknown>;
  const phaseSet = Boolean(ra.phase) && Boolean(rb.phase);
  return [...new Set([...Object.keys(ra), ...Object.keys(rb)])]
    .filter((k) => k !== "agentError" && !(k === "state" && phaseSet))
    .filter((k) => !isDeepStrictEqual(ra[k], rb[k]))
    .map((k) => `resource.${k}`);
}

async function checkIdempotentGet(
  ctx: Ctx,
  request: CreateTaskRequest,
  category: TaskCategory,
  resourceMeta: Buffer,
  terminal: GetTaskResponse,
): Promise<void> {
  const before = await snapshot(request.outputPrefix);
  const req = {
    taskType: category.name,
    taskCategory: category,
    resourceMeta,
    outputPrefix: request.outputPrefix,
  };
  const deadline = { deadlineMs: probeDeadline(ctx.deadline("GetTask")) };
  try {
    const a = await ctx.primary.getTask(req, deadline);
    const b = await ctx.primary.getTask(req, deadline);
    const after = await snapshot(request.outputPrefix);
    const problems: string[] = [];
    const ab = differingFields(a.value, b.value);
    if (ab.length > 0) problems.push(`two GetTask calls in a row differ in ${ab.join(", ")}`);
    const ta = differingFields(terminal, a.value);
    if (ab.length === 0 && ta.length > 0)
      problems.push(`GetTask after the terminal answer differs from it in ${ta.join(", ")}`);
    if (before !== after) problems.push(`files under the output prefix changed while GetTask was called`);
    ctx.record(
      "get.idempotent",
      problems.length > 0 ? "fail" : "pass",
      problems.length > 0
        ? problems.join("; ")
        : `3 answers for the finished job are equal${before === undefined ? " (output prefix not readable here; files not compared)" : "; the output prefix is unchanged"}`,
    );
  } catch (err) {
    ctx.record("get.idempotent", "fail", `GetTask on the finished job failed: ${failureText(err)}`);
  }
}

async function checkResult(
  outer: Ctx,
  request: CreateTaskRequest,
  resource: ProtoResource,
  path: CallPath,
  profile: PropellerProfile = FLYTE1_PROFILE,
  ids: { readonly result: ConformanceRuleId; readonly outputs: ConformanceRuleId } = {
    result: "task.result",
    outputs: "outputs",
  },
  flyte?: 1 | 2,
): Promise<void> {
  // The same rules under the protocol's own ids.
  const ctx = {
    ...outer,
    record: (id: "task.result" | "outputs", status: CheckStatus, evidence: string) =>
      outer.record(id === "task.result" ? ids.result : ids.outputs, status, evidence, flyte),
  };
  const outcome = mapResource(resource, path, profile);
  if (outcome.kind !== "succeeded") {
    ctx.record(
      "task.result",
      "warn",
      `${phaseName(outcome.phase)}: ${outcome.kind === "failed" || outcome.kind === "status-error" ? outcome.message : resource.message}`,
    );
    ctx.record("outputs", "skip", "the task did not succeed");
    return;
  }
  ctx.record("task.result", "pass", "SUCCEEDED");
  const declared = Object.keys(request.template?.interface?.outputs?.variables ?? {});
  if (declared.length === 0) {
    ctx.record("outputs", "pass", "the task declares no outputs");
    return;
  }
  // FlytePropeller does not check outputs against the interface: a mismatch is a warning, since
  // the task succeeds and a downstream task reading the output fails.
  const mismatch = (literals: LiteralMap): string | undefined => {
    const missing = declared.filter((n) => !(n in literals.literals));
    if (missing.length > 0) return `missing ${missing.join(", ")}`;
    const task = ctx.options.task;
    if (task && isTaskDefinition(task)) {
      try {
        task.decodeOutputs(literals);
      } catch (err) {
        return `not of the declared types: ${(err as Error).message}`;
      }
    }
    return undefined;
  };
  const unchecked =
    "; FlytePropeller does not check this, so the task succeeds and downstream tasks reading it fail";
  if (resource.outputs) {
    const problem = mismatch(resource.outputs);
    ctx.record(
      "outputs",
      problem ? "warn" : "pass",
      problem ? `inline outputs ${problem}${unchecked}` : `inline: ${declared.join(", ")}`,
    );
    return;
  }
  const prefix = request.outputPrefix;
  if (!storageSchemes().includes(uriScheme(prefix))) {
    ctx.record(
      "outputs",
      "warn",
      `no inline outputs, and ${prefix} cannot be read from here to look for outputs.pb`,
    );
    return;
  }
  const { storage } = ctx;
  const errorPath = storage.join(prefix, "error.pb");
  const outputsPath = storage.join(prefix, "outputs.pb");
  const errorDoc = await storage.read(errorPath);
  const file = errorDoc ? undefined : await storage.read(outputsPath);
  let errorDocument;
  try {
    errorDocument = errorDoc ? decodeErrorDocument(errorDoc) : undefined;
  } catch {
    errorDocument = {
      code: "",
      message: "(unreadable)",
      kind: "NON_RECOVERABLE" as const,
      origin: "UNKNOWN" as const,
    };
  }
  const verdict = judgeOutputs({
    outputsDeclared: true,
    inlineOutputs: false,
    errorDocument,
    errorDocumentBytes: errorDoc?.length,
    outputsFileBytes: file?.length,
    outputsPath,
    errorPath,
    maxDownloadMBs: ctx.config.maxDownloadMBs,
  });
  if (verdict.kind !== "succeeded") {
    const why = errorDocument
      ? `SUCCEEDED, but ${errorPath} exists (${errorDocument.code} ${errorDocument.message}); FlytePropeller fails the task`
      : verdict.kind === "failed" && verdict.code === "OutputsNotFound"
        ? `SUCCEEDED without inline outputs and without ${outputsPath}; FlytePropeller fails it with OutputsNotFound (declared: ${declared.join(", ")})`
        : `outputs.pb is ${bytes(file?.length ?? 0)}; FlytePropeller refuses more than ${ctx.config.maxDownloadMBs} MB (OutputSizeExceeded, limit ${bytes(maxPayloadBytes(ctx.config.maxDownloadMBs))})`;
    ctx.record("outputs", "fail", why);
    return;
  }
  let literals: LiteralMap;
  try {
    literals = LiteralMap.decode(file!);
  } catch (err) {
    ctx.record("outputs", "warn", `outputs.pb is not a LiteralMap: ${(err as Error).message}${unchecked}`);
    return;
  }
  const problem = mismatch(literals);
  ctx.record(
    "outputs",
    problem ? "warn" : "pass",
    problem
      ? `outputs.pb ${problem}${unchecked}`
      : `outputs.pb (${bytes(file!.length)}): ${declared.join(", ")}`,
  );
}

async function checkDelete(
  ctx: Ctx,
  category: TaskCategory,
  metas: readonly Buffer[],
  finished: boolean,
): Promise<void> {
  const deadline = ctx.deadline("DeleteTask");
  const problems: string[] = [];
  let slowest = 0;
  let calls = 0;
  for (const [job, resourceMeta] of metas.entries()) {
    for (const round of [1, 2]) {
      try {
        const res = await ctx.primary.deleteTask(
          { taskType: category.name, taskCategory: category, resourceMeta },
          { deadlineMs: probeDeadline(deadline) },
        );
        calls += 1;
        slowest = Math.max(slowest, res.ms);
        ctx.responses.push({ what: "DeleteTask", bytes: res.bytes });
      } catch (err) {
        problems.push(`DeleteTask #${round} of the ${job ? "repeated" : "first"} job: ${failureText(err)}`);
      }
    }
  }
  const status = problems.length > 0 ? "fail" : timing(slowest, deadline);
  ctx.record(
    "delete",
    status,
    problems.length > 0
      ? `${problems.join("; ")} (a failing DeleteTask fails the abort; FlytePropeller ends such a workflow FAILED "Workflow abort failed")`
      : `${calls} calls on ${finished ? "finished" : "unfinished"} jobs answered OK, slowest ${ms(slowest)} (deadline ${deadline / 1000} s)`,
  );
}

async function checkCrossReplica(
  ctx: Ctx,
  request: CreateTaskRequest,
  category: TaskCategory,
  resourceMeta: Buffer,
  terminal: GetTaskResponse | undefined,
): Promise<void> {
  const others = ctx.clients.slice(1);
  if (others.length === 0) {
    ctx.record("cross-replica", "skip", "one endpoint given; name each replica with --endpoint to check");
    return;
  }
  if (!terminal) {
    ctx.record("cross-replica", "skip", "the job did not reach a terminal phase");
    return;
  }
  const problems: string[] = [];
  for (const other of others) {
    try {
      const res = await other.getTask(
        { taskType: category.name, taskCategory: category, resourceMeta, outputPrefix: request.outputPrefix },
        { deadlineMs: probeDeadline(ctx.deadline("GetTask")) },
      );
      const diff = differingFields(terminal, res.value);
      if (diff.length > 0) problems.push(`${other.endpoint} answers differently in ${diff.join(", ")}`);
    } catch (err) {
      problems.push(`${other.endpoint}: ${failureText(err)}`);
    }
  }
  ctx.record(
    "cross-replica",
    problems.length > 0 ? "fail" : "pass",
    problems.length > 0
      ? problems.join("; ")
      : `${others.map((o) => o.endpoint).join(", ")} read the job created on ${ctx.primary.endpoint} alike`,
  );
}

function checkResponseSizes(ctx: Ctx): void {
  if (ctx.responses.length === 0) return;
  const largest = ctx.responses.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const status =
    largest.bytes > MAX_GRPC_MESSAGE_BYTES ? "fail" : largest.bytes > NEAR_LIMIT_BYTES ? "warn" : "pass";
  ctx.record(
    "response-size",
    status,
    `largest of ${ctx.responses.length} responses: ${largest.what}, ${bytes(largest.bytes)}${status === "pass" ? "" : "; write big results to storage ({output_prefix}/outputs.pb) instead"}`,
  );
}
