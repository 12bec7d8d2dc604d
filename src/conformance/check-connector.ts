import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isDeepStrictEqual } from "node:util";
import type { Answer } from "../client/agent-client.js";
import type { ConnectorClient } from "../client/connector-client.js";
import type { Clock } from "@flyte-agent/runtime/internal/core/clock.js";
import { formatCategory, type TaskCategory } from "@flyte-agent/runtime/internal/core/task-category.js";
import type {
  CreateTaskRequest as V1CreateTaskRequest,
  Resource as V1Resource,
} from "@flyte-agent/runtime/internal/gen/flyteidl/admin/agent.js";
import type { TaskTemplate as V1TaskTemplate } from "@flyte-agent/runtime/internal/gen/flyteidl/core/tasks.js";
import {
  type Connector,
  type CreateTaskRequest,
  GetTaskLogsResponse,
  GetTaskResponse,
} from "@flyte-agent/runtime/internal/gen/v2/flyteidl2/connector/connector.js";
import { TaskTemplate } from "@flyte-agent/runtime/internal/gen/v2/flyteidl2/core/tasks.js";
import type { Connection } from "@flyte-agent/runtime/internal/gen/v2/flyteidl2/core/security.js";
import {
  type AgentDeployment,
  deadlineFor,
  type PropellerAgentConfig,
  type RpcOperation,
} from "@flyte-agent/runtime/internal/propeller/config.js";
import {
  ConnectionReadError,
  connectionFromCustom,
  connectionReadFailed,
  fromConnectorResource,
  toConnectorInputs,
  toConnectorMetadata,
  toConnectorTemplate,
} from "@flyte-agent/runtime/internal/propeller/connector-wire.js";
import { MAX_GRPC_MESSAGE_BYTES } from "@flyte-agent/runtime/internal/propeller/defaults.js";
import { NEAR_LIMIT_BYTES } from "@flyte-agent/runtime/internal/propeller/findings.js";
import { FLYTE2_PROFILE, type PropellerProfile } from "@flyte-agent/runtime/internal/propeller/profile.js";
import { emptyResource, mapResource } from "@flyte-agent/runtime/internal/propeller/status.js";
import { bytes, codeOf, failureText, ms, probeDeadline, timing } from "./measure.js";
import { type Polled, pollUntilTerminal, recordPolling } from "./poll.js";
import type { CheckStatus, ConformanceRuleId } from "./rules.js";

/** What the Flyte 2 checks need from the run that hosts them. */
export interface ConnectorChecks {
  readonly client: ConnectorClient;
  readonly clock: Clock;
  /** The connector-service config whose default deployment's deadlines apply. */
  readonly config: PropellerAgentConfig;
  readonly pollIntervalMs: number;
  readonly taskTimeoutMs: number;
  /** The task's template, when a task is checked. */
  readonly template: V1TaskTemplate | undefined;
  /**
   * Values for the secrets the task's connection names (the platform resolves them; here they are
   * given). A secret without a value gets a random one, and one more random secret is always sent,
   * so there is always a value to look for in the answers.
   */
  readonly secrets: Readonly<Record<string, string>>;
  /** The server's log, read after the checks to look for secret values. */
  readonly logFile: string | undefined;
  /** The attempt's request as FlytePropeller 1 builds it (inputs.pb written); a string on failure. */
  prepareRequest(template: V1TaskTemplate): Promise<V1CreateTaskRequest | string>;
  /** The `task.result` / `outputs` checks, run on a Resource in Flyte 1's shape. */
  checkResult(
    request: V1CreateTaskRequest,
    resource: V1Resource,
    profile: PropellerProfile,
    ids: { readonly result: ConformanceRuleId; readonly outputs: ConformanceRuleId },
  ): Promise<void>;
  record(id: ConformanceRuleId, status: CheckStatus, evidence: string): void;
}

/** The name of the secret conformance always adds to the connection: a value it knows to look for. */
export const PROBE_SECRET = "flyte-agent-conformance-probe";

interface Run extends ConnectorChecks {
  readonly deployment: AgentDeployment;
  deadline(op: RpcOperation): number;
  readonly responses: { what: string; bytes: number; body: Uint8Array }[];
}

/**
 * Checks a server's Flyte 2 connector services (`flyteidl2.connector`) against what Flyte 2's
 * executor needs (flyteorg/flyte main, `flyteplugins/go/tasks/plugins/webapi/connector/`): ListConnectors
 * and GetConnector, NOT_FOUND for unknown categories and — given a task — Create → Get until terminal
 * → Delete with the task's connection, GetTaskLogs, and no secret value in any answer or log line.
 * Answers are judged by the Flyte 2 profile of `propeller/` (an unset phase is a system error).
 */
export async function checkConnectorServer(checks: ConnectorChecks): Promise<void> {
  const deployment = checks.config.defaultAgent!;
  const run: Run = {
    ...checks,
    deployment,
    deadline: (op) => deadlineFor(deployment, op),
    responses: [],
  };
  const connectors = await checkListConnectors(run);
  if (!connectors) return;
  await checkGetConnector(run, connectors);
  await checkUnknownCategory(run);
  let secrets: string[] = [];
  if (checks.template) secrets = await checkTask(run, checks.template, connectors);
  if (secrets.length > 0) await checkSecrets(run, secrets);
  checkResponseSizes(run);
}

function categoriesOf(c: Connector): string[] {
  return c.supportedTaskCategories.map(formatCategory);
}

async function checkListConnectors(run: Run): Promise<readonly Connector[] | undefined> {
  let res: Answer<{ connectors: Connector[] }>;
  try {
    res = await run.client.listConnectors({ deadlineMs: probeDeadline(run.deadline("ListAgents")) });
  } catch (err) {
    run.record(
      "v2.list-connectors",
      "fail",
      `${failureText(err)}; Flyte 2's executor routes nothing to a server whose ListConnectors fails`,
    );
    return undefined;
  }
  run.responses.push({ what: "ListConnectors", bytes: res.bytes, body: new Uint8Array() });
  const { connectors } = res.value;
  const listed = connectors.flatMap(categoriesOf);
  const deadline = run.deadline("ListAgents");
  run.record(
    "v2.list-connectors",
    listed.length === 0 ? "fail" : timing(res.ms, deadline),
    listed.length === 0
      ? `answered in ${ms(res.ms)} but lists no task category: Flyte 2's executor routes nothing here`
      : `answered in ${ms(res.ms)} (deadline ${deadline / 1000} s): ${connectors
          .map((c) => `${c.name || "(no name)"} (${categoriesOf(c).join(", ") || "no categories"})`)
          .join("; ")}`,
  );
  const dupes = [...new Set(listed.filter((n, i) => listed.indexOf(n) !== i))];
  run.record(
    "v2.list-connectors.unique",
    dupes.length > 0 ? "fail" : "pass",
    dupes.length > 0
      ? `listed more than once: ${dupes
          .map(
            (d) =>
              `${d} by ${connectors
                .filter((c) => categoriesOf(c).includes(d))
                .map((c) => c.name)
                .join(" and ")}`,
          )
          .join("; ")}`
      : `${listed.length} categories, each listed once`,
  );
  return connectors;
}

async function checkGetConnector(run: Run, connectors: readonly Connector[]): Promise<void> {
  const deadline = { deadlineMs: probeDeadline(run.deadline("ListAgents")) };
  const problems: string[] = [];
  for (const listed of connectors) {
    try {
      const res = await run.client.getConnector(listed.name, deadline);
      const got = res.value.connector;
      if (!got) problems.push(`GetConnector("${listed.name}") answered without a connector`);
      else if (got.name !== listed.name)
        problems.push(`GetConnector("${listed.name}") named it "${got.name}"`);
      else if (!isDeepStrictEqual(categoriesOf(got).sort(), categoriesOf(listed).sort()))
        problems.push(
          `GetConnector("${listed.name}") lists ${categoriesOf(got).join(", ") || "nothing"}, ListConnectors ${categoriesOf(listed).join(", ")}`,
        );
    } catch (err) {
      problems.push(`GetConnector("${listed.name}") failed: ${failureText(err)}`);
    }
  }
  run.record(
    "v2.get-connector",
    problems.length > 0 ? "warn" : "pass",
    problems.length > 0
      ? `${problems.join("; ")} (Flyte 2's executor never calls GetConnector; other clients may)`
      : `${connectors.length} connector(s) match ListConnectors`,
  );
  const unknown = `conformance-no-such-connector-${randomBytes(4).toString("hex")}`;
  try {
    await run.client.getConnector(unknown, deadline);
    run.record("v2.get-connector.unknown", "warn", `GetConnector("${unknown}") answered OK`);
  } catch (err) {
    const ok = codeOf(err) === "NOT_FOUND";
    run.record(
      "v2.get-connector.unknown",
      ok ? "pass" : "warn",
      `GetConnector("${unknown}"): ${failureText(err)}`,
    );
  }
}

async function checkUnknownCategory(run: Run): Promise<void> {
  const category = { name: `conformance-unknown-${randomBytes(4).toString("hex")}`, version: 0 };
  const template = TaskTemplate.fromPartial({ type: category.name });
  const connection = { taskType: category.name, secrets: {}, configs: {} };
  const deadline = { deadlineMs: probeDeadline(run.deadline("CreateTask")) };
  const meta = Buffer.from("{}");
  const calls: [string, () => Promise<unknown>][] = [
    [
      "CreateTask",
      () =>
        run.client.createTask(
          {
            inputs: { literals: [], context: [] },
            template,
            outputPrefix: "",
            taskExecutionMetadata: undefined,
            connection,
          },
          deadline,
        ),
    ],
    [
      "GetTask",
      () =>
        run.client.getTask(
          { resourceMeta: meta, taskCategory: category, outputPrefix: "", connection },
          deadline,
        ),
    ],
    [
      "DeleteTask",
      () => run.client.deleteTask({ resourceMeta: meta, taskCategory: category, connection }, deadline),
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
      if (codeOf(err) !== "NOT_FOUND") ok = false;
      seen.push(codeOf(err) === "NOT_FOUND" ? `${name} NOT_FOUND` : `${name} ${failureText(err)}`);
    }
  }
  run.record(
    "v2.unknown-category",
    ok ? "pass" : "fail",
    `for ${formatCategory(category)}: ${seen.join(", ")}`,
  );
}

/**
 * The connection Flyte 2's executor would send for the task: read from `TaskTemplate.custom`, each
 * secret name resolved to its value (given, or random), plus {@link PROBE_SECRET}.
 */
function connectionFor(
  run: Run,
  template: V1TaskTemplate,
): { connection: Connection; problem: string | undefined } {
  let base: Connection;
  let problem: string | undefined;
  try {
    base = connectionFromCustom(template.custom);
  } catch (err) {
    if (!(err instanceof ConnectionReadError)) throw err;
    problem = connectionReadFailed(err.message);
    base = { taskType: template.type, secrets: {}, configs: {} };
  }
  const secrets: Record<string, string> = {};
  for (const name of Object.values(base.secrets)) {
    secrets[name] = run.secrets[name] ?? `conformance-secret-${randomBytes(12).toString("hex")}`;
  }
  // Keyed as the task's custom keys them: key → resolved value.
  const resolved = Object.fromEntries(Object.entries(base.secrets).map(([k, name]) => [k, secrets[name]!]));
  resolved[PROBE_SECRET] = `conformance-secret-${randomBytes(12).toString("hex")}`;
  return { connection: { ...base, secrets: resolved }, problem };
}

async function checkTask(
  run: Run,
  template: V1TaskTemplate,
  connectors: readonly Connector[],
): Promise<string[]> {
  const category: TaskCategory = { name: template.type, version: template.taskTypeVersion };
  const wanted = formatCategory(category);
  const by = connectors.find((c) => categoriesOf(c).includes(wanted));
  run.record(
    "v2.task.listed",
    by ? "pass" : "fail",
    by
      ? `${wanted} is served by ${by.name}`
      : `${wanted} is not listed (listed: ${connectors.flatMap(categoriesOf).join(", ") || "nothing"}); Flyte 2's executor sends it here only as its defaultConnector`,
  );
  const request = await run.prepareRequest(template);
  if (typeof request === "string") {
    run.record(
      "v2.create",
      "fail",
      `the executor cannot render the task's args (${request}), so every create fails`,
    );
    return [];
  }
  const { connection, problem } = connectionFor(run, template);
  const secretValues = Object.values(connection.secrets);
  const v2: CreateTaskRequest = {
    inputs: request.inputs ? toConnectorInputs(request.inputs) : undefined,
    template: request.template ? toConnectorTemplate(request.template) : undefined,
    outputPrefix: request.outputPrefix,
    taskExecutionMetadata: request.taskExecutionMetadata
      ? toConnectorMetadata(request.taskExecutionMetadata)
      : undefined,
    connection,
  };
  const createDeadline = run.deadline("CreateTask");
  let meta: Buffer;
  try {
    const created = await run.client.createTask(v2, { deadlineMs: probeDeadline(createDeadline) });
    meta = created.value.resourceMeta;
    run.responses.push({ what: "CreateTask", bytes: created.bytes, body: meta });
    const status = timing(created.ms, createDeadline);
    run.record(
      "v2.create",
      meta.length === 0 && status === "pass" ? "warn" : status,
      `answered in ${ms(created.ms)} (deadline ${createDeadline / 1000} s) with ${meta.length === 0 ? "an empty resource_meta: GetTask will get nothing to find the job by" : `resource_meta of ${bytes(meta.length)}`}`,
    );
  } catch (err) {
    run.record("v2.create", "fail", `${failureText(err)} (Flyte 2's executor: a retryable failure)`);
    run.record(
      "v2.connection",
      problem ? "warn" : "skip",
      problem
        ? `Flyte 2's executor refuses the task before calling the server: ${problem}`
        : "CreateTask failed, so the connection was not seen accepted",
    );
    return secretValues;
  }
  const polled = await poll(run, category, meta, request.outputPrefix, connection);
  const gets = polled.answers;
  const unset = gets.filter((g) => !g.value.resource || (g.value.resource.phase as number) === 0);
  run.record(
    "v2.phase",
    unset.length > 0 ? "fail" : "pass",
    unset.length > 0
      ? `${unset.length} of ${gets.length} GetTask answers have no phase: Flyte 2's executor reads each as "${describe(mapResource(emptyResource(), "async", FLYTE2_PROFILE))}"`
      : `${gets.length} Resource(s), each with a phase`,
  );
  recordPolling(
    (id, status, evidence) => run.record(id, status, evidence),
    { deadline: "v2.get.deadline", terminal: "v2.get.terminal" },
    polled,
    gets,
    run.deadline("GetTask"),
    (errors) => ` and ${errors} error(s)`,
  );
  if (polled.final) {
    await run.checkResult(request, polled.final, FLYTE2_PROFILE, {
      result: "v2.task.result",
      outputs: "v2.outputs",
    });
  }
  const deleted = await checkDelete(run, category, meta, connection, polled.final !== undefined);
  await checkLogs(run, category, meta);
  run.record(
    "v2.connection",
    // The task, not the server, is at fault: a warning.
    problem ? "warn" : deleted && gets.length > 0 ? "pass" : "skip",
    problem
      ? `the server accepted it, but Flyte 2's executor refuses the task before calling the server: ${problem}; give the task's custom a connection (task_type, secrets, configs)`
      : deleted && gets.length > 0
        ? `CreateTask, GetTask and DeleteTask accepted a connection with task_type ${connection.taskType || '""'}, ${secretValues.length} secret(s) and ${Object.keys(connection.configs).length} config(s)`
        : "GetTask or DeleteTask failed, so the connection was not seen accepted on every call",
  );
  return secretValues;
}

function describe(outcome: ReturnType<typeof mapResource>): string {
  return outcome.kind === "failed" || outcome.kind === "status-error" ? outcome.message : outcome.kind;
}

/** GetTask until a terminal phase (as the Flyte 2 profile reads it), the failure budget or the timeout. */
function poll(
  run: Run,
  category: TaskCategory,
  resourceMeta: Buffer,
  outputPrefix: string,
  connection: Connection,
): Promise<Polled<GetTaskResponse>> {
  return pollUntilTerminal({
    clock: run.clock,
    pollIntervalMs: run.pollIntervalMs,
    taskTimeoutMs: run.taskTimeoutMs,
    maxSystemFailures: run.config.maxSystemFailures,
    profile: FLYTE2_PROFILE,
    getTask: async () => {
      const res = await run.client.getTask(
        { resourceMeta, taskCategory: category, outputPrefix, connection },
        { deadlineMs: probeDeadline(run.deadline("GetTask")) },
      );
      run.responses.push({
        what: "GetTask",
        bytes: res.bytes,
        body: GetTaskResponse.encode(res.value).finish(),
      });
      return res;
    },
    resourceOf: (res) => (res.value.resource ? fromConnectorResource(res.value.resource) : undefined),
    exhausted: (failures, _answers, lastError) =>
      `GetTask failed ${failures} times: Flyte 2's executor stops polling and fails the task (last error: ${lastError})`,
  });
}

async function checkDelete(
  run: Run,
  category: TaskCategory,
  resourceMeta: Buffer,
  connection: Connection,
  finished: boolean,
): Promise<boolean> {
  const deadline = run.deadline("DeleteTask");
  const problems: string[] = [];
  let slowest = 0;
  for (const round of [1, 2]) {
    try {
      const res = await run.client.deleteTask(
        { resourceMeta, taskCategory: category, connection },
        { deadlineMs: probeDeadline(deadline) },
      );
      slowest = Math.max(slowest, res.ms);
    } catch (err) {
      problems.push(`DeleteTask #${round}: ${failureText(err)}`);
    }
  }
  run.record(
    "v2.delete",
    problems.length > 0 ? "fail" : timing(slowest, deadline),
    problems.length > 0
      ? `${problems.join("; ")} (a failing DeleteTask fails the abort)`
      : `2 calls on the ${finished ? "finished" : "unfinished"} job answered OK, slowest ${ms(slowest)} (deadline ${deadline / 1000} s)`,
  );
  return problems.length === 0;
}

async function checkLogs(run: Run, category: TaskCategory, resourceMeta: Buffer): Promise<void> {
  let messages = 0;
  let lines = 0;
  const malformed: number[] = [];
  try {
    for await (const answer of run.client.getTaskLogs(
      { resourceMeta, taskCategory: category, lines: 100n, token: "" },
      { deadlineMs: probeDeadline(run.deadline("GetTaskLogs")) },
    )) {
      messages += 1;
      const m = answer.value;
      run.responses.push({
        what: "GetTaskLogs",
        bytes: answer.bytes,
        body: GetTaskLogsResponse.encode(m).finish(),
      });
      if (!m.header && !m.body) malformed.push(messages);
      lines += (m.body?.lines.length ?? 0) + (m.body?.results.length ?? 0);
    }
  } catch (err) {
    if (codeOf(err) === "UNIMPLEMENTED") {
      run.record(
        "v2.logs",
        "skip",
        `the connector serves no logs (${failureText(err)}); the executor does not call GetTaskLogs`,
      );
      return;
    }
    run.record("v2.logs", "fail", `the stream ended with ${failureText(err)} after ${messages} message(s)`);
    return;
  }
  run.record(
    "v2.logs",
    malformed.length > 0 ? "fail" : "pass",
    malformed.length > 0
      ? `message(s) ${malformed.join(", ")} carry neither a header nor a body`
      : `${messages} message(s), ${lines} line(s), ended OK`,
  );
}

/** Where a secret value could show: as text, base64 or hex (resource_meta is bytes). */
function forms(secret: string): string[] {
  const raw = Buffer.from(secret);
  return [secret, raw.toString("base64").replace(/=+$/, ""), raw.toString("hex")];
}

async function checkSecrets(run: Run, secrets: readonly string[]): Promise<void> {
  const found: string[] = [];
  for (const r of run.responses) {
    const text = Buffer.from(r.body).toString("latin1");
    if (secrets.some((s) => forms(s).some((f) => text.includes(f)))) found.push(r.what);
  }
  let logNote = "; no server log given (--log-file), so its log was not searched";
  let unreadable = false;
  if (run.logFile) {
    try {
      const log = await readFile(run.logFile, "latin1");
      if (secrets.some((s) => forms(s).some((f) => log.includes(f))))
        found.push(`the server's log (${run.logFile})`);
      logNote = `; the server's log (${run.logFile}, ${bytes(Buffer.byteLength(log))}) holds none`;
    } catch (err) {
      unreadable = true;
      logNote = `; the server's log ${run.logFile} could not be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
    }
  }
  const where = [...new Set(found)];
  run.record(
    "v2.secrets",
    where.length > 0 ? "fail" : unreadable ? "warn" : "pass",
    where.length > 0
      ? `a secret value of the connection appears in ${where.join(", ")}: secrets must never be echoed, stored in resource_meta or logged`
      : `${secrets.length} secret value(s) appear in none of ${run.responses.length} answers${logNote}`,
  );
}

function checkResponseSizes(run: Run): void {
  if (run.responses.length === 0) return;
  const largest = run.responses.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const status =
    largest.bytes > MAX_GRPC_MESSAGE_BYTES ? "fail" : largest.bytes > NEAR_LIMIT_BYTES ? "warn" : "pass";
  run.record(
    "v2.response-size",
    status,
    `largest of ${run.responses.length} responses: ${largest.what}, ${bytes(largest.bytes)}`,
  );
}
