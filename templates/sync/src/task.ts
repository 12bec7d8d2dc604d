import { defineTask } from "@flyte-agent/runtime";
import { z } from "zod";

const currency = z
  .string()
  .regex(/^[A-Z]{3}$/, "an ISO 4217 code such as EUR")
  .describe("an ISO 4217 currency code");

/**
 * The task this agent runs: its typed inputs and outputs, and the settings FlytePropeller passes in
 * the task template (`config` becomes `TaskTemplate.custom`). Python users declare the same task with
 * flytekit; the task type and the interface are what must match.
 */
export const starterTask = defineTask({
  name: "starter_name.example",
  taskType: "starter_task",
  description: "Converts an amount between currencies by calling the (stand-in) rates API.",
  inputs: {
    amount: z.number().nonnegative().describe("the amount to convert"),
    from: currency,
    to: currency,
  },
  outputs: {
    converted: z.number(),
    rate: z.number(),
  },
  config: { decimals: 2 },
  timeout: "30s",
});
