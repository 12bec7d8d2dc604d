"""A Python workflow that waits on the TypeScript sensor before it goes on.

Locally, with the agent running (`npm run serve`, listening on localhost:8000):

    FLYTE_AGENT_ENDPOINT=localhost:8000 pyflyte run example_workflow.py wf --path reports/today.csv

On a Flyte cluster (`pyflyte run --remote ...`), FlytePropeller sends the task to the agent deployment.
The task class comes from `starter_name_agents`, which `npm run python` generates from src/task.ts.
"""

from flytekit import task, workflow

from starter_name_agents import WaitTask

wait = WaitTask(name="starter_name.wait")


@task
def report(path: str) -> str:
    return f"{path} is there"


@workflow
def wf(path: str = "reports/today.csv") -> str:
    arrived = wait(path=path)
    done = report(path=path)
    arrived >> done
    return done
