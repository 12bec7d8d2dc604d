import { z } from "zod";
import { defineTask, type JsonObject, type JsonValue, type TaskDefinition } from "../task/define-task.js";
import type { SchemaShape } from "../types/literal.js";
import { WEBHOOK_TASK_TYPE, type WebhookResponseType } from "./webhook-agent.js";

/** What {@link defineWebhookTask} takes. */
export interface WebhookTaskOptions<I extends SchemaShape, R extends WebhookResponseType> {
  name: string;
  /** The URL; may contain `{{inputs.name}}` (percent-encoded) and `{{secrets.key}}`. */
  url: string;
  /** @default "POST" */
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD";
  /** Header values may contain `{{inputs.name}}` and `{{secrets.key}}`. @default {} */
  headers?: Record<string, string>;
  /** A string, or a JSON value sent as `application/json`; strings inside may use the placeholders. */
  body?: JsonValue;
  /** @default {} */
  inputs?: I;
  /** `"text"`: the `body` output is a string; `"json"`: a JSON object (a Struct). @default "text" */
  responseType?: R;
  /** Per-request time limit in seconds (the gRPC call's deadline applies too). */
  timeoutSeconds?: number;
  description?: string;
  /** @default 0 */
  retries?: number;
}

type WebhookOutputs<R extends WebhookResponseType> = {
  status: z.ZodInt;
  body: R extends "json" ? z.ZodObject<Record<string, never>, z.core.$loose> : z.ZodString;
};

/**
 * Defines a `webhook` task, served by the built-in webhook agent (`builtinAgents(["webhook"])`).
 * Outputs: `status` (the HTTP status) and `body`.
 *
 * @example
 * ```ts
 * export const notify = defineWebhookTask({
 *   name: "notify",
 *   url: "https://hooks.example.com/{{inputs.channel}}",
 *   headers: { authorization: "Bearer {{secrets.hook_token}}" },
 *   body: { text: "{{inputs.message}}" },
 *   inputs: { channel: z.string(), message: z.string() },
 * });
 * ```
 */
export function defineWebhookTask<
  const I extends SchemaShape = Record<never, never>,
  const R extends WebhookResponseType = "text",
>(options: WebhookTaskOptions<I, R>): TaskDefinition<I, WebhookOutputs<R>, JsonObject> {
  const responseType = options.responseType ?? "text";
  const config: Record<string, JsonValue> = {
    url: options.url,
    method: options.method ?? "POST",
    headers: options.headers ?? {},
    response_type: responseType,
  };
  if (options.body !== undefined) config.body = options.body;
  if (options.timeoutSeconds !== undefined) config.timeout_seconds = options.timeoutSeconds;
  const outputs = {
    status: z.int(),
    body: responseType === "json" ? z.looseObject({}) : z.string(),
  } as WebhookOutputs<R>;
  return defineTask({
    name: options.name,
    taskType: WEBHOOK_TASK_TYPE,
    inputs: options.inputs ?? ({} as I),
    outputs,
    config,
    ...(options.description !== undefined ? { description: options.description } : {}),
    ...(options.retries !== undefined ? { retries: options.retries } : {}),
  });
}
