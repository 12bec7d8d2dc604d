export { AgentServer, type AgentServerOptions } from "./server.js";
export { createServiceHandlers, type CallHooks, type ServiceOptions } from "./services.js";
export { toWireError, CallAbortedError, type Operation, type WireError } from "./errors.js";
