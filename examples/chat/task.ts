// The counterpart of flytekit's OpenAI ChatGPT example:
//   npx flyte-agent run examples/chat/task.ts --message "hello"
// with OPENAI_BASE_URL and _FSEC_OPENAI_API_KEY set (see the README; a local fake API is included).
import { defineTask } from "flyte-agent";
import { z } from "zod";
import "./src/agent.js";

/** Sends one message to the chat model and returns its answer. */
export const chat = defineTask({
  name: "chat",
  taskType: "chat",
  description: "Ask an OpenAI-compatible chat model one question",
  inputs: { message: z.string().min(1).describe("what to ask") },
  outputs: { answer: z.string() },
  config: { model: "gpt-4o-mini", system_prompt: "Answer in one sentence.", timeout_seconds: 60 },
});
