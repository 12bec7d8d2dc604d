"""A Python workflow that uses the TypeScript agent's task.

Locally, with the agent running (`npm run serve`, listening on localhost:8000):

    FLYTE_AGENT_ENDPOINT=localhost:8000 pyflyte run example_workflow.py wf --amount 10

On a Flyte cluster (`pyflyte run --remote ...`), FlytePropeller sends the task to the agent deployment.
The task class comes from `starter_name_agents`, which `npm run python` generates from src/task.ts.
"""

from flytekit import workflow

from starter_name_agents import ExampleTask

convert = ExampleTask(name="starter_name.example", decimals=2)


@workflow
def wf(amount: float = 10.0) -> float:
    # "from" is a Python keyword, so the inputs are passed as a dict.
    converted, _rate = convert(**{"amount": amount, "from": "EUR", "to": "USD"})
    return converted
