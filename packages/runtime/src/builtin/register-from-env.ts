// A module that registers the built-in agents named in $FLYTE_AGENT_BUILTIN ("sensor,webhook") in
// the process-wide registry when it is imported. `serve --workers` adds it to the modules every
// worker process imports, because the server itself knows no built-in agent and a function cannot
// cross to a worker process.
import { AgentRegistry } from "../core/registry.js";
import { parseBuiltinAgentNames, registerBuiltinAgents } from "./builtin-agents.js";

/** The environment variable naming the built-in agents to register (comma-separated). */
export const builtinModuleEnv = "FLYTE_AGENT_BUILTIN";

const names = process.env[builtinModuleEnv];
if (names) registerBuiltinAgents(AgentRegistry.default, parseBuiltinAgentNames(names));
