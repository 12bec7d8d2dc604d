import {
  type CreateTaskRequest,
  type CreateTaskResponse,
  type DeleteTaskRequest,
  type DeleteTaskResponse,
  type GetTaskLogsRequest,
  type GetTaskLogsResponse,
  type GetTaskMetricsRequest,
  type GetTaskMetricsResponse,
  type GetTaskRequest,
  GetTaskResponse,
  Resource as V2Resource,
} from "../../gen/v2/flyteidl2/connector/connector.js";
import type { AsyncConnectorServiceServer } from "../../gen/v2/flyteidl2/connector/service.js";
import { type AsyncAgentBase, isSyncAgent, type SyncAgentBase } from "../../core/agent.js";
import { ErrorCode, FlyteAgentError } from "../../core/errors.js";
import { TaskExecutionPhase } from "../../core/phase.js";
import type { AgentRegistry } from "../../core/registry.js";
import { formatCategory, type TaskCategory } from "../../core/task-category.js";
import type { CallPipeline } from "../call-pipeline.js";
import type { CallScope } from "../call-scope.js";
import type { RequestRecorder } from "../recorder.js";
import {
  categoryOf,
  createJob,
  deleteJob,
  encodeResource,
  executionIdOf,
  getJob,
  jobMetrics,
  streamJobLogs,
  taskRequest,
} from "./agent-calls.js";
import { encodeResponse } from "./encoded-response.js";
import {
  connectionOf,
  inputContextOf,
  toV2LogLine,
  toV2Resource,
  v1Inputs,
  v1Metadata,
  v1Template,
} from "./flyte2-wire.js";
import { wireSizeOf } from "./wire-sizes.js";

/**
 * The most bytes of a sync agent's finished result carried in resource_meta (256 KiB). Flyte 2's
 * executor keeps resource_meta in the task's plugin state and sends it back on every GetTask
 * (flyteplugins/go/tasks/plugins/webapi/connector/plugin.go, Create and Get on flyteorg/flyte
 * main); that state is persisted with the rest of the action's state, whose reference
 * configuration caps a state at 1 MiB (docs/IMPLEMENTATION_SPEC.md, `maxStateSizeBytes`). A
 * quarter of it leaves room for everything else the state holds.
 */
export const MAX_SYNC_RESULT_BYTES = 256 * 1024;

/**
 * Marks resource_meta that carries a sync agent's finished result, so a GetTask with anything else
 * (another server's meta, a truncated copy) fails with a clear error rather than a decode error.
 */
const SYNC_RESULT_MAGIC = Buffer.from("flyte-agent/sync-result/1\n");

/**
 * `flyteidl2.connector.AsyncConnectorService` (Flyte 2): CreateTask, GetTask, DeleteTask,
 * GetTaskMetrics, GetTaskLogs, over the same registry and agent calls as Flyte 1's
 * AsyncAgentService (`agent-calls.ts`); only the messages differ (`flyte2-wire.ts`).
 *
 * Flyte 2 has no sync service (flyteidl2/connector/service.proto on flyteorg/flyte main; flyte-sdk's
 * `flyte.connectors` has only `AsyncConnector`), so a sync agent is served here statelessly:
 * CreateTask runs its `do` and returns the finished Resource, encoded, as resource_meta; GetTask
 * answers it back; DeleteTask has nothing to cancel. `do` must therefore finish within the
 * executor's CreateTask deadline (10 s by default), and a result larger than
 * {@link MAX_SYNC_RESULT_BYTES} is refused: such an agent should write its outputs to
 * `{outputPrefix}/outputs.pb` and return none.
 */
export function createAsyncConnectorService(
  pipeline: CallPipeline,
  registry: AgentRegistry,
  recorder?: RequestRecorder,
): AsyncConnectorServiceServer {
  const createTask = pipeline.unary<CreateTaskRequest, CreateTaskResponse>(
    (req) => ({
      op: "create",
      taskType: req.template?.type ?? "",
      outputPrefix: req.outputPrefix,
      executionId: executionIdOf(req.taskExecutionMetadata),
      protocol: "flyte2",
      connection: connectionOf(req.connection),
    }),
    async (req, scope) => {
      recorder?.skipFlyte2();
      if (!req.template)
        throw new FlyteAgentError(ErrorCode.INVALID_TASK_TEMPLATE, "CreateTaskRequest has no template");
      pipeline.inputs(scope, () => wireSizeOf(req.inputs) ?? 0);
      const template = v1Template(req.template);
      const inputs = v1Inputs(req.inputs);
      const agent = registry.getAgent(template.type, template.taskTypeVersion);
      const request = taskRequest(
        scope,
        template,
        inputs,
        v1Metadata(req.taskExecutionMetadata),
        inputContextOf(req.inputs),
      );
      if (isSyncAgent(agent)) return { resourceMeta: await runSync(scope, agent, request) };
      return { resourceMeta: await createJob(scope, agent, request) };
    },
  );

  const getTask = pipeline.unary<GetTaskRequest, GetTaskResponse>(
    (req) => ({
      op: "get",
      taskType: req.taskCategory?.name ?? "",
      outputPrefix: req.outputPrefix,
      protocol: "flyte2",
      connection: connectionOf(req.connection),
    }),
    async (req, scope) => {
      const agent = registry.getAgent(...categoryArgs(req.taskCategory));
      if (isSyncAgent(agent)) {
        const resource = syncResultOf(agent, req.resourceMeta);
        return encodeResponse(GetTaskResponse, { resource }, undefined);
      }
      const wire = encodeResource(agent, await getJob(scope, agent, req.resourceMeta), undefined);
      if ((wire.phase as number) === TaskExecutionPhase.UNDEFINED) {
        // flyteplugins/go/tasks/plugins/webapi/connector/plugin.go, Status: "unknown execution phase".
        scope.logger.error(
          { agent: agent.name, rule: "phase-unset" },
          "the Resource has no phase: Flyte 2's executor fails the task with a system error",
        );
      }
      return encodeResponse(GetTaskResponse, { resource: toV2Resource(wire) }, wire.outputs);
    },
  );

  const deleteTask = pipeline.unary<DeleteTaskRequest, DeleteTaskResponse>(
    (req) => ({
      op: "delete",
      taskType: req.taskCategory?.name ?? "",
      protocol: "flyte2",
      connection: connectionOf(req.connection),
    }),
    async (req, scope) => {
      const agent = registry.getAgent(...categoryArgs(req.taskCategory));
      // A sync agent's task finished within CreateTask: there is nothing left to cancel.
      if (!isSyncAgent(agent)) await deleteJob(scope, agent, req.resourceMeta);
      return {};
    },
  );

  const getTaskMetrics = pipeline.unary<GetTaskMetricsRequest, GetTaskMetricsResponse>(
    (req) => ({ op: "metrics", taskType: req.taskCategory?.name ?? "", protocol: "flyte2" }),
    async (req, scope) => {
      const agent = asyncConnectorFor(registry, categoryOf(req.taskCategory, ""), "metrics");
      return { results: await jobMetrics(scope, agent, req) };
    },
  );

  const getTaskLogs = pipeline.serverStream<GetTaskLogsRequest, GetTaskLogsResponse>(
    (req) => ({ op: "logs", taskType: req.taskCategory?.name ?? "", protocol: "flyte2" }),
    async (req, scope, send) => {
      const agent = asyncConnectorFor(registry, categoryOf(req.taskCategory, ""), "logs");
      await streamJobLogs(scope, agent, req, async (chunk) => {
        if (chunk.token !== undefined) await send({ header: { token: chunk.token } });
        // Structured lines only: flyte-sdk's connectors fill `body.lines` (flyte/connectors/_connector.py,
        // get_logs); `results` is the deprecated plain form.
        await send({ body: { results: [], lines: chunk.lines.map(toV2LogLine) } });
      });
    },
  );

  return { createTask, getTask, deleteTask, getTaskMetrics, getTaskLogs };
}

const categoryArgs = (category: { name: string; version: number } | undefined): [string, number] => [
  category?.name ?? "",
  category?.version ?? 0,
];

/** The async agent serving `category` for GetTaskMetrics/GetTaskLogs: a sync agent has neither. */
function asyncConnectorFor(
  registry: AgentRegistry,
  category: TaskCategory,
  what: "metrics" | "logs",
): AsyncAgentBase<any> {
  const agent = registry.getAgent(category.name, category.version);
  if (isSyncAgent(agent)) {
    throw new FlyteAgentError(
      ErrorCode.UNIMPLEMENTED,
      `${formatCategory(category)} is served by the sync agent ${agent.name}, which has no ${what}: its result came with CreateTask`,
    );
  }
  return agent;
}

/** Runs a sync agent's `do` and packs the finished Resource into resource_meta. */
async function runSync(
  scope: CallScope,
  agent: SyncAgentBase,
  request: Parameters<SyncAgentBase["do"]>[0],
): Promise<Buffer> {
  const resource = await scope.race(agent.do(request));
  const wire = encodeResource(agent, resource, request.taskTemplate);
  const v2 = toV2Resource(wire);
  let bytes: Uint8Array;
  try {
    bytes = V2Resource.encode(v2).finish();
  } catch (err) {
    // Names the output that does not fit, as a Flyte 1 answer would.
    encodeResponse(GetTaskResponse, { resource: v2 }, wire.outputs);
    throw err;
  }
  if (bytes.length > MAX_SYNC_RESULT_BYTES) {
    throw new FlyteAgentError(
      ErrorCode.AGENT_FAILURE,
      `the result of the sync agent ${agent.name} is ${bytes.length} bytes, more than the ${MAX_SYNC_RESULT_BYTES} ` +
        "bytes Flyte 2 can carry in resource_meta (it has no sync RPC, so the result travels there); " +
        "write large outputs to {outputPrefix}/outputs.pb and return none",
    );
  }
  scope.logger.debug({ resource_meta_bytes: bytes.length }, "sync task done");
  return Buffer.concat([SYNC_RESULT_MAGIC, bytes]);
}

/** The finished Resource a sync agent's CreateTask packed. @throws FlyteAgentError (INVALID_RESOURCE_META) */
function syncResultOf(agent: SyncAgentBase, resourceMeta: Uint8Array): V2Resource {
  const meta = Buffer.from(resourceMeta.buffer, resourceMeta.byteOffset, resourceMeta.byteLength);
  if (!meta.subarray(0, SYNC_RESULT_MAGIC.length).equals(SYNC_RESULT_MAGIC)) {
    throw new FlyteAgentError(
      ErrorCode.INVALID_RESOURCE_META,
      `resource_meta is not a result of the sync agent ${agent.name} (it is made by this server's CreateTask)`,
    );
  }
  try {
    return V2Resource.decode(meta.subarray(SYNC_RESULT_MAGIC.length));
  } catch (err) {
    throw new FlyteAgentError(
      ErrorCode.INVALID_RESOURCE_META,
      `resource_meta of the sync agent ${agent.name} does not decode: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
