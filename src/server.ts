/**
 * `flyte-agent/server`: the runtime's gRPC agent server (`@flyte-agent/runtime/server`), re-exported.
 * @packageDocumentation
 */
export * from "@flyte-agent/runtime/server";
