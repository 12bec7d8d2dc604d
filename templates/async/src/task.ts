import { defineTask } from "@flyte-agent/runtime";
import { z } from "zod";

/**
 * The task this agent runs: its typed inputs and outputs, and the settings FlytePropeller passes in
 * the task template (`config` becomes `TaskTemplate.custom`). Python users declare the same task with
 * flytekit; the task type and the interface are what must match.
 */
export const starterTask = defineTask({
  name: "starter_name.example",
  taskType: "starter_task",
  description: "Runs a job on the stand-in job service and returns its result.",
  inputs: {
    message: z.string().min(1).describe("what the job works on"),
    repeat: z.int().min(1).max(100).default(2).describe("how many times to repeat the message"),
  },
  outputs: {
    result: z.string(),
    length: z.int(),
  },
  config: { durationSeconds: 1 },
  timeout: "10m",
});
