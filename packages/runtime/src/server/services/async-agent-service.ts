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
  createJob,
  deleteJob,
  encodedSize,
  executionIdOf,
  getJob,
  jobMetrics,
  streamJobLogs,
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
      const request = taskRequest(scope, template, req.inputs, req.taskExecutionMetadata);
      return { resourceMeta: await createJob(scope, agent, request) };
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
      const resource = await getJob(scope, agent, req.resourceMeta);
      const wire = toWireResource(scope, agent, resource, undefined, "async");
      return encodeResponse(GetTaskResponse, { resource: wire }, wire.outputs);
    },
  );

  const deleteTask = pipeline.unary<DeleteTaskRequest, DeleteTaskResponse>(
    (req) => ({ op: "delete", taskType: categoryOf(req.taskCategory, req.taskType).name }),
    async (req, scope) => {
      const agent = asyncAgentFor(registry, categoryOf(req.taskCategory, req.taskType));
      await deleteJob(scope, agent, req.resourceMeta);
      return {};
    },
  );

  const getTaskMetrics = pipeline.unary<GetTaskMetricsRequest, GetTaskMetricsResponse>(
    (req) => ({ op: "metrics", taskType: categoryOf(req.taskCategory, req.taskType).name }),
    async (req, scope) => {
      const agent = asyncAgentFor(registry, categoryOf(req.taskCategory, req.taskType));
      return { results: await jobMetrics(scope, agent, req) };
    },
  );

  const getTaskLogs = pipeline.serverStream<GetTaskLogsRequest, GetTaskLogsResponse>(
    (req) => ({ op: "logs", taskType: categoryOf(req.taskCategory, req.taskType).name }),
    async (req, scope, send) => {
      const agent = asyncAgentFor(registry, categoryOf(req.taskCategory, req.taskType));
      await streamJobLogs(scope, agent, req, async (chunk) => {
        if (chunk.token !== undefined) await send({ header: { token: chunk.token } });
        // Flyte 1's body has plain lines only.
        const results = chunk.lines.map((line) => (typeof line === "string" ? line : line.message));
        await send({ body: { results, structuredLines: [] } });
      });
    },
  );

  return { createTask, getTask, deleteTask, getTaskMetrics, getTaskLogs };
}
