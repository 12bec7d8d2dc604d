import { type ExecuteTaskSyncRequest, ExecuteTaskSyncResponse } from "../../gen/flyteidl/admin/agent.js";
import type { SyncAgentServiceServer } from "../../gen/flyteidl/service/agent.js";
import { ErrorCode, FlyteAgentError } from "../../core/errors.js";
import type { AgentRegistry } from "../../core/registry.js";
import type { CallPipeline } from "../call-pipeline.js";
import { encodedSize, executionIdOf, syncAgentFor, taskRequest, toWireResource } from "./agent-calls.js";
import { encodeResponse } from "./encoded-response.js";
import { wireSizeOf } from "./wire-sizes.js";
import type { RequestRecorder } from "../recorder.js";

/**
 * `flyteidl.service.SyncAgentService` (ExecuteTaskSync). The client sends a header (template, output
 * prefix, metadata), then the inputs, then half-closes; the answer is one message whose header
 * carries the Resource.
 */
export function createSyncAgentService(
  pipeline: CallPipeline,
  registry: AgentRegistry,
  recorder?: RequestRecorder,
): SyncAgentServiceServer {
  const headerOf = (messages: readonly ExecuteTaskSyncRequest[]) => messages.find((m) => m.header)?.header;

  const executeTaskSync = pipeline.bidi<ExecuteTaskSyncRequest, ExecuteTaskSyncResponse>(
    // A client that keeps the stream open sends both the header and the inputs first.
    (messages) => messages.length >= 2 || messages.some((m) => m.inputs),
    (messages) => {
      const header = headerOf(messages);
      return {
        op: "do",
        taskType: header?.template?.type ?? "",
        outputPrefix: header?.outputPrefix ?? "",
        executionId: executionIdOf(header?.taskExecutionMetadata),
      };
    },
    async (messages, scope, send) => {
      // Queued only: the recorder writes off the call's path and never fails it.
      recorder?.recordExecuteTaskSync(messages);
      const header = headerOf(messages);
      if (!header?.template) {
        throw new FlyteAgentError(
          ErrorCode.INVALID_TASK_TEMPLATE,
          "the first ExecuteTaskSync message must be a header with a template",
        );
      }
      const template = header.template;
      const inputs = messages.find((m) => m.inputs)?.inputs;
      pipeline.inputs(scope, () => wireSizeOf(inputs) ?? encodedSize(inputs));
      const agent = syncAgentFor(registry, { name: template.type, version: template.taskTypeVersion });
      const resource = await scope.race(
        agent.do(taskRequest(scope, template, inputs, header.taskExecutionMetadata)),
      );
      const wire = toWireResource(scope, agent, resource, template, "sync");
      await send(encodeResponse(ExecuteTaskSyncResponse, { header: { resource: wire } }, wire.outputs));
    },
  );

  return { executeTaskSync };
}
