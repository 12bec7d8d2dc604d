/**
 * The public API of flyte-agent: the runtime's (`@flyte-agent/runtime`), re-exported so that
 * `import … from "flyte-agent"` keeps working and shares the runtime's module instances (`instanceof`
 * and the agent registry are the same whichever name is imported). Agent code that ships in an image
 * imports `@flyte-agent/runtime`; this package adds the CLI and the toolchain: `flyte-agent/executor`,
 * `flyte-agent/conformance`, `flyte-agent/testing`, `flyte-agent/deploy`, and re-exports
 * `flyte-agent/server` and the type-only `flyte-agent/flyteidl`.
 * @packageDocumentation
 */
export * from "@flyte-agent/runtime";
