// Loaded by `flyte-agent serve agent --modules` (or through this package's "flyteAgent" field) and by
// task.ts: registers the chat agent in the process-wide registry.
import { AgentRegistry } from "flyte-agent";
import { ChatAgent } from "./chat-agent.js";

/** The agent this module registers. */
export const chatAgent = new ChatAgent();
AgentRegistry.register(chatAgent);
