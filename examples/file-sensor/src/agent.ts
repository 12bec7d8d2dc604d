// Loaded by task.ts and by `flyte-agent serve agent --modules`: this project asks for the built-in
// sensor engine (built-ins are never served unless someone asks, here or with `serve --builtin`).
import { AgentRegistry, registerBuiltinAgents } from "flyte-agent";

registerBuiltinAgents(AgentRegistry.default, ["sensor"]);
