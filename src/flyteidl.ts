/**
 * `flyte-agent/flyteidl`: the Flyte protocol messages in the public signatures, as types only
 * (`@flyte-agent/runtime/flyteidl`, re-exported).
 * @packageDocumentation
 */
export type * from "@flyte-agent/runtime/flyteidl";
