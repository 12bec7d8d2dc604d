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
} from "../../gen/flyteidl/admin/agent.js";
import { encodeResponse } from "./encoded-response.js";
import type { AsyncAgentServiceServer } from "../../gen/flyteidl/service/agent.js";
import { ErrorCode, FlyteAgentError } from "../../core/errors.js";
import type { AgentRegistry } from "../../core/registry.js";
import type { CallPipeline } from "../call-pipeline.js";
import {
  asyncAgentFor,
  categoryOf,
  encodedSize,
  executionIdOf,
  taskRequest,
  toWireResource,
} from "./agent-calls.js";
import { wireSizeOf } from "./wire-sizes.js";
import type { RequestRecorder } from "../recorder.js";

/** `flyteidl.service.AsyncAgentService` (CreateTask, GetTask, DeleteTask, GetTaskMetrics, GetTaskLogs). */
export function createAsyncAgentService(
  pipeline: CallPipeline,
  registry: AgentRegistry,
  recorder?: RequestRecorder,
): AsyncAgentServiceServer {
  const createTask = pipeline.unary<CreateTaskRequest, CreateTaskResponse>(
    (req) => ({
      op: "create",
      taskType: req.template?.type ?? "",
      outputPrefix: req.outputPrefix,
      executionId: executionIdOf(req.taskExecutionMetadata),
    }),
    async (req, scope) => {
      // Queued only: the recorder writes off the call's path and never fails it.
      recorder?.recordCreateTask(req);
      const template = req.template;
      if (!template)
        throw new FlyteAgentError(ErrorCode.INVALID_TASK_TEMPLATE, "CreateTaskRequest has no template");
      pipeline.inputs(scope, () => wireSizeOf(req.inputs) ?? encodedSize(req.inputs));
      const agent = asyncAgentFor(registry, { name: template.type, version: template.taskTypeVersion });
      const meta = await agent.create(taskRequest(scope, template, req.inputs, req.taskExecutionMetadata));
      const resourceMeta = Buffer.from(agent.codec.encode(meta));
      scope.logger.debug({ resource_meta_bytes: resourceMeta.length }, "task created");
      return { resourceMeta };
    },
  );

  const getTask = pipeline.unary<GetTaskRequest, GetTaskResponse>(
    (req) => ({
      op: "get",
      taskType: categoryOf(req.taskCategory, req.taskType).name,
      outputPrefix: req.outputPrefix,
    }),
    async (req, scope) => {
      const agent = asyncAgentFor(registry, categoryOf(req.taskCategory, req.taskType));
      const resource = await agent.get(agent.codec.decode(req.resourceMeta), scope.context);
      const wire = toWireResource(scope, agent, resource, undefined, "async");
      return encodeResponse(GetTaskResponse, { resource: wire }, wire.outputs);
    },
  );

  const deleteTask = pipeline.unary<DeleteTaskRequest, DeleteTaskResponse>(
    (req) => ({ op: "delete", taskType: categoryOf(req.taskCategory, req.taskType).name }),
    async (req, scope) => {
      const agent = asyncAgentFor(registry, categoryOf(req.taskCategory, req.taskType));
      await agent.delete(agent.codec.decode(req.resourceMeta), scope.context);
      scope.logger.debug("task deleted");
      return {};
    },
  );

  const getTaskMetrics = pipeline.unary<GetTaskMetricsRequest, GetTaskMetricsResponse>(
    (req) => ({ op: "metrics", taskType: categoryOf(req.taskCategory, req.taskType).name }),
    async (req, scope) => {
      const agent = asyncAgentFor(registry, categoryOf(req.taskCategory, req.taskType));
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
        agent.codec.decode(req.resourceMeta),
        {
          queries: req.queries,
          ...(req.startTime ? { startTime: toDate(req.startTime)! } : {}),
          ...(req.endTime ? { endTime: toDate(req.endTime)! } : {}),
          ...(step ? { stepMs: Number(step.seconds) * 1000 + step.nanos / 1e6 } : {}),
        },
        scope.context,
      );
      return { results: results.map((r) => ({ metric: r.metric, data: r.data })) };
    },
  );

  const getTaskLogs = pipeline.serverStream<GetTaskLogsRequest, GetTaskLogsResponse>(
    (req) => ({ op: "logs", taskType: categoryOf(req.taskCategory, req.taskType).name }),
    async (req, scope, send) => {
      const agent = asyncAgentFor(registry, categoryOf(req.taskCategory, req.taskType));
      if (!agent.getLogs) {
        throw new FlyteAgentError(ErrorCode.UNIMPLEMENTED, `agent ${agent.name} does not implement getLogs`);
      }
      const logs = agent.getLogs(
        agent.codec.decode(req.resourceMeta),
        { lines: Number(req.lines), token: req.token },
        scope.context,
      );
      const iterator = logs[Symbol.asyncIterator]();
      for (;;) {
        const next = await scope.race(iterator.next());
        if (next.done) return;
        const chunk = next.value;
        if (chunk.token !== undefined) await send({ header: { token: chunk.token } });
        await send({ body: { results: [...chunk.lines], structuredLines: [] } });
      }
    },
  );

  return { createTask, getTask, deleteTask, getTaskMetrics, getTaskLogs };
}
