import { defineTask } from "flyte-agent";
import { z } from "zod";

/**
 * The sensor task: it succeeds once the watched object exists, and has no outputs. Downstream tasks
 * in a workflow wait on it. Python users declare the same task with flytekit; the task type and the
 * interface are what must match.
 */
export const starterTask = defineTask({
  name: "starter_task.example",
  taskType: "starter_task",
  description: "Waits until an object exists in the (stand-in) object store.",
  inputs: {
    path: z.string().min(1).describe("the object to wait for"),
  },
  timeout: "1h",
});
