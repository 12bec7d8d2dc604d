"""A Python workflow that uses the TypeScript agent's task.

Locally, with the agent running (`npm run serve`, listening on localhost:8000):

    FLYTE_AGENT_ENDPOINT=localhost:8000 pyflyte run example_workflow.py wf --message hello

On a Flyte cluster (`pyflyte run --remote ...`), FlytePropeller sends the task to the agent deployment.
The task class comes from `starter_name_agents`, which `npm run python` generates from src/task.ts.
"""

from flytekit import workflow

from starter_name_agents import ExampleTask

example = ExampleTask(name="starter_name.example", duration_seconds=1)


@workflow
def wf(message: str = "hello", repeat: int = 2) -> str:
    result, _length = example(message=message, repeat=repeat)
    return result
