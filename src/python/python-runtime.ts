// The Python modules every generated package carries besides its task classes: a gRPC client of the
// agent services (protobuf and grpcio only, so it runs without flytekit) and the flytekit mixin that
// executes a task through it.

/** Environment variable naming the `flyte-agent serve` endpoint local executions call. */
export const ENDPOINT_ENV = "FLYTE_AGENT_ENDPOINT";

/** `_client.py`: the agent services' client, on flyteidl's protobuf and grpc stubs only. */
export const CLIENT_PY = `"""A client of the Flyte agent services (flyteidl.service.AsyncAgentService, SyncAgentService and
AgentMetadataService) for running a task locally against \`flyte-agent serve agent\`.

It needs only grpcio and flyteidl's generated protobuf modules (which flytekit installs), so it can be
used, and tested, without flytekit.
"""

import os
import time
import typing

import grpc
from flyteidl.admin import agent_pb2
from flyteidl.core import execution_pb2, literals_pb2, tasks_pb2
from flyteidl.service import agent_pb2_grpc

#: Where \`flyte-agent serve agent\` listens, as host:port.
ENDPOINT_ENV = "${ENDPOINT_ENV}"
#: Set to "true" to dial the endpoint with TLS (system roots).
TLS_ENV = "FLYTE_AGENT_TLS"

# flytekit/extend/backend/utils.py is_terminal_phase: SUCCEEDED, ABORTED and FAILED end a task.
_TERMINAL = (
    execution_pb2.TaskExecution.SUCCEEDED,
    execution_pb2.TaskExecution.ABORTED,
    execution_pb2.TaskExecution.FAILED,
)


class FlyteAgentError(Exception):
    """The agent server could not be reached, or the task did not succeed."""


class FlyteAgentClient(object):
    """Runs task templates on an agent server: CreateTask then GetTask until a terminal phase for
    async agents (DeleteTask on interrupt), one ExecuteTaskSync call for sync agents."""

    def __init__(
        self,
        endpoint: str,
        tls: bool = False,
        poll_interval: float = 1.0,
        timeout: float = 30.0,
        sleep: typing.Callable[[float], None] = time.sleep,
    ):
        self.endpoint = endpoint
        self.channel = grpc.secure_channel(endpoint, grpc.ssl_channel_credentials()) if tls else grpc.insecure_channel(endpoint)
        self.poll_interval = poll_interval
        self.timeout = timeout
        self._sleep = sleep
        self._async = agent_pb2_grpc.AsyncAgentServiceStub(self.channel)
        self._sync = agent_pb2_grpc.SyncAgentServiceStub(self.channel)
        self._metadata = agent_pb2_grpc.AgentMetadataServiceStub(self.channel)

    @classmethod
    def from_env(cls, **kwargs: typing.Any) -> "FlyteAgentClient":
        """A client of the server named by $${ENDPOINT_ENV} (and $FLYTE_AGENT_TLS)."""
        endpoint = os.environ.get(ENDPOINT_ENV, "").strip()
        if not endpoint:
            raise FlyteAgentError(
                f"set {ENDPOINT_ENV} to the host:port of a running \`flyte-agent serve agent\` (e.g. localhost:8000)"
            )
        tls = os.environ.get(TLS_ENV, "").lower() in ("1", "true", "yes")
        return cls(endpoint, tls=tls, **kwargs)

    def close(self) -> None:
        self.channel.close()

    def _call(self, what: str, fn: typing.Callable[..., typing.Any], *args: typing.Any) -> typing.Any:
        try:
            return fn(*args, timeout=self.timeout)
        except grpc.RpcError as e:
            raise FlyteAgentError(f"{what} on {self.endpoint} failed: {e.code().name}: {e.details()}") from None

    def is_sync(self, category: agent_pb2.TaskCategory) -> bool:
        """Whether the agent serving \`category\` is a sync agent, from ListAgents (as FlytePropeller finds out)."""
        listed = self._call("ListAgents", self._metadata.ListAgents, agent_pb2.ListAgentsRequest())
        served = []
        for agent in listed.agents:
            for c in agent.supported_task_categories:
                served.append(f"{c.name}_v{c.version}")
                if c.name == category.name and c.version == category.version:
                    return agent.is_sync
        raise FlyteAgentError(
            f"the agent server at {self.endpoint} serves no {category.name}_v{category.version} tasks"
            f" (it serves {', '.join(sorted(served)) or 'none'})"
        )

    def run(
        self,
        template: tasks_pb2.TaskTemplate,
        inputs: literals_pb2.LiteralMap,
        output_prefix: str,
        task_name: str = "",
    ) -> typing.Optional[literals_pb2.LiteralMap]:
        """Runs one task and returns its outputs (from the Resource, else {output_prefix}/outputs.pb).

        Raises FlyteAgentError when the task does not succeed.
        """
        category = agent_pb2.TaskCategory(name=template.type, version=template.task_type_version)
        if self.is_sync(category):
            resource = self._execute_sync(template, inputs, output_prefix)
        else:
            resource = self._execute_async(template, inputs, output_prefix, category)
        if resource.phase != execution_pb2.TaskExecution.SUCCEEDED:
            phase = execution_pb2.TaskExecution.Phase.Name(resource.phase)
            raise FlyteAgentError(f"task {task_name or template.id.name} ended {phase}: {resource.message}")
        if resource.HasField("outputs"):
            return resource.outputs
        # As flytekit's AsyncConnectorExecutorMixin.execute: an agent that returns no outputs wrote them
        # to {output_prefix}/outputs.pb.
        path = os.path.join(output_prefix, "outputs.pb")
        if template.interface.outputs.variables and os.path.exists(path):
            with open(path, "rb") as f:
                return literals_pb2.LiteralMap.FromString(f.read())
        return None

    def _execute_sync(
        self, template: tasks_pb2.TaskTemplate, inputs: literals_pb2.LiteralMap, output_prefix: str
    ) -> agent_pb2.Resource:
        header = agent_pb2.CreateRequestHeader(template=template, output_prefix=output_prefix)
        requests = iter(
            [agent_pb2.ExecuteTaskSyncRequest(header=header), agent_pb2.ExecuteTaskSyncRequest(inputs=inputs)]
        )
        try:
            for response in self._sync.ExecuteTaskSync(requests, timeout=self.timeout):
                if response.HasField("header"):
                    return response.header.resource
        except grpc.RpcError as e:
            raise FlyteAgentError(f"ExecuteTaskSync on {self.endpoint} failed: {e.code().name}: {e.details()}") from None
        raise FlyteAgentError(f"ExecuteTaskSync on {self.endpoint} returned no resource")

    def _execute_async(
        self,
        template: tasks_pb2.TaskTemplate,
        inputs: literals_pb2.LiteralMap,
        output_prefix: str,
        category: agent_pb2.TaskCategory,
    ) -> agent_pb2.Resource:
        created = self._call(
            "CreateTask",
            self._async.CreateTask,
            agent_pb2.CreateTaskRequest(template=template, inputs=inputs, output_prefix=output_prefix),
        )
        meta = created.resource_meta
        try:
            while True:
                got = self._call(
                    "GetTask",
                    self._async.GetTask,
                    agent_pb2.GetTaskRequest(task_category=category, resource_meta=meta, output_prefix=output_prefix),
                )
                if got.resource.phase in _TERMINAL:
                    return got.resource
                self._sleep(self.poll_interval)
        except KeyboardInterrupt:
            # As flytekit's connector_signal_handler: an interrupted local run deletes the task.
            self._call("DeleteTask", self._async.DeleteTask, agent_pb2.DeleteTaskRequest(task_category=category, resource_meta=meta))
            raise
`;

/**
 * `_mixin.py`: the flytekit side, shaped after flytekit 1.16.5's SyncConnectorExecutorMixin and
 * AsyncConnectorExecutorMixin (flytekit/extend/backend/base_connector.py l.304-397): the template
 * from get_serializable(...).template, inputs from TypeEngine.dict_to_literal_map, a LiteralMap
 * returned from execute() (which dispatch_execute passes through, base_task.py l.782-787).
 */
export const MIXIN_PY = `"""Local execution of the generated tasks through a running \`flyte-agent serve agent\`.

flytekit's SyncConnectorExecutorMixin and AsyncConnectorExecutorMixin
(flytekit/extend/backend/base_connector.py in flytekit 1.16) find the connector in the Python process's
ConnectorRegistry; these tasks are served by a TypeScript agent, so this mixin sends the same request
(the serialized task template, the inputs as a LiteralMap, an output prefix) to the server named by
$${ENDPOINT_ENV} instead. On a Flyte cluster the mixin is not used: FlytePropeller sends the template to
the agent deployment.
"""

import typing
from collections import OrderedDict

from flytekit.configuration import ImageConfig, SerializationSettings
from flytekit.core.context_manager import FlyteContext
from flytekit.core.type_engine import TypeEngine
from flytekit.models.literals import LiteralMap

from ._client import FlyteAgentClient


class FlyteAgentExecutorMixin(object):
    """Runs the task locally (\`pyflyte run\` without --remote, or calling the task) on the agent server
    at $${ENDPOINT_ENV}: ListAgents decides between ExecuteTaskSync and CreateTask/GetTask."""

    def execute(self, **kwargs: typing.Any) -> LiteralMap:
        # The template is built as flytekit's own mixins build it (base_connector.py, execute()).
        from flytekit.tools.translator import get_serializable

        ctx = FlyteContext.current_context()
        ss = ctx.serialization_settings or SerializationSettings(ImageConfig())
        template = get_serializable(OrderedDict(), ss, self).template
        inputs = TypeEngine.dict_to_literal_map(ctx, kwargs, self.get_input_types())
        # A local directory: the agent runs on this machine and may write outputs.pb there.
        output_prefix = ctx.file_access.get_random_local_directory()
        client = FlyteAgentClient.from_env()
        try:
            outputs = client.run(template.to_flyte_idl(), inputs.to_flyte_idl(), output_prefix, task_name=self.name)
        finally:
            client.close()
        # A LiteralMap returned by execute() is taken as the outputs (flytekit/core/base_task.py dispatch_execute).
        return LiteralMap.from_flyte_idl(outputs) if outputs is not None else LiteralMap(literals={})
`;
