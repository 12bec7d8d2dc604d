import { z } from "zod";
import { SyncAgentBase } from "../core/agent.js";
import type { TaskRequest } from "../core/context.js";
import { ErrorCode, FlyteAgentError } from "../core/errors.js";
import { TaskExecutionPhase } from "../core/phase.js";
import type { Resource } from "../core/resource.js";
import { getAgentSecret, type SecretsOptions } from "../core/secrets.js";
import { toJsonValue } from "../types/json-value.js";

/** The task type of webhook tasks. */
export const WEBHOOK_TASK_TYPE = "webhook";

/** How the response body becomes the `body` output. */
export const WebhookResponseType = {
  /** The body as a string. */
  TEXT: "text",
  /** The body parsed as JSON (a non-object value is wrapped as `{ "value": ... }`). */
  JSON: "json",
} as const;
export type WebhookResponseType = (typeof WebhookResponseType)[keyof typeof WebhookResponseType];

/**
 * The webhook task's config (`TaskTemplate.custom`). Strings in `url`, `headers` and `body` may refer
 * to inputs as `{{inputs.name}}` and to secrets as `{{secrets.key}}` (resolved with `getAgentSecret`
 * on every call, so credentials never sit in the task template or in logs). In the URL, values are
 * percent-encoded; a body string that is exactly one `{{inputs.name}}` takes the input's JSON value.
 */
export const WebhookConfig = z.object({
  url: z.string().min(1),
  method: z
    .string()
    .transform((m) => m.toUpperCase())
    .pipe(z.enum(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]))
    .default("POST"),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.unknown().optional(),
  response_type: z.enum(["text", "json"]).default("text"),
  timeout_seconds: z.number().positive().optional(),
});
export type WebhookConfig = z.input<typeof WebhookConfig>;

/** Options of {@link WebhookAgent}. */
export interface WebhookAgentOptions {
  /** Where `{{secrets.key}}` is looked up. @default the environment's defaults */
  readonly secrets?: SecretsOptions;
  /** The `fetch` to call (for a proxy or instrumentation). @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** At most this many characters of an error response go into the failure message. @default 500 */
  readonly maxErrorBodyChars?: number;
}

const PLACEHOLDER = /\{\{\s*(inputs|secrets)\.([A-Za-z0-9_.-]+)\s*\}\}/g;
const WHOLE_PLACEHOLDER = /^\{\{\s*inputs\.([A-Za-z0-9_]+)\s*\}\}$/;

/** Marks webhook agents across copies of the library. */
export const webhookAgentBrand = Symbol.for("flyte-agent.webhook-agent");

/**
 * A sync agent for task type `webhook`: makes the HTTP call described by the task's config (inputs
 * templated in) and answers SUCCEEDED with outputs `status` and `body` on a 2xx answer, FAILED with
 * agent error code `HTTP_<status>` otherwise. The call is cancelled when the gRPC call is.
 */
export class WebhookAgent extends SyncAgentBase {
  readonly [webhookAgentBrand] = true;
  readonly #secrets: SecretsOptions;
  readonly #fetch: typeof fetch;
  readonly #maxErrorBodyChars: number;

  constructor(options: WebhookAgentOptions = {}) {
    super({ taskTypeName: WEBHOOK_TASK_TYPE, name: "Webhook" });
    this.#secrets = options.secrets ?? {};
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#maxErrorBodyChars = options.maxErrorBodyChars ?? 500;
  }

  override async do(request: TaskRequest): Promise<Resource> {
    const parsed = WebhookConfig.safeParse(request.taskTemplate.custom ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
      throw new FlyteAgentError(
        ErrorCode.INVALID_TASK_TEMPLATE,
        `invalid webhook config (${issues.join("; ")}); define the task with defineWebhookTask`,
      );
    }
    const config = parsed.data;
    const render = (text: string, encode: (s: string) => string) =>
      renderTemplate(text, request.inputs, this.#secrets, encode);

    const url = await render(config.url, encodeURIComponent);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(config.headers)) headers[k] = await render(v, String);
    let body: string | undefined;
    if (config.body !== undefined && config.method !== "GET" && config.method !== "HEAD") {
      if (typeof config.body === "string") {
        body = await render(config.body, String);
      } else {
        body = JSON.stringify(await renderJson(config.body, request.inputs, this.#secrets));
        if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
          headers["content-type"] = "application/json";
        }
      }
    }
    const signal =
      config.timeout_seconds === undefined
        ? request.signal
        : AbortSignal.any([request.signal, AbortSignal.timeout(config.timeout_seconds * 1000)]);

    let response: Response;
    try {
      response = await this.#fetch(url, { method: config.method, headers, body, signal });
    } catch (err) {
      if (request.signal.aborted) throw err;
      const reason =
        err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw new FlyteAgentError(
        ErrorCode.AGENT_FAILURE,
        `webhook ${config.method} ${redact(url)} failed: ${reason}`,
        { cause: err },
      );
    }
    const text = await response.text();
    if (!response.ok) {
      const excerpt =
        text.length > this.#maxErrorBodyChars ? `${text.slice(0, this.#maxErrorBodyChars)}…` : text;
      return {
        phase: TaskExecutionPhase.FAILED,
        message: `webhook ${config.method} ${redact(url)} answered ${response.status} ${response.statusText}${
          excerpt ? `: ${excerpt}` : ""
        }`,
        agentError: { code: `HTTP_${response.status}` },
      };
    }
    return {
      phase: TaskExecutionPhase.SUCCEEDED,
      outputs: {
        status: response.status,
        body: config.response_type === "json" ? parseJsonBody(text) : text,
      },
    };
  }
}

/** True for a webhook agent, even one built by another copy of the library. */
export function isWebhookAgent(value: unknown): value is WebhookAgent {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[webhookAgentBrand] === true
  );
}

function parseJsonBody(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new FlyteAgentError(
      ErrorCode.AGENT_FAILURE,
      `the webhook answered with a body that is not JSON (response_type is "json"): ${text.slice(0, 200)}`,
    );
  }
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : { value };
}

/** The URL without its query string and credentials, for messages (queries often carry tokens). */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid url)";
  }
}

function inputText(value: unknown, name: string): string {
  if (typeof value === "string") return value;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "object" && value !== null) return JSON.stringify(inputJson(value, name));
  return String(value);
}

/** An input as JSON for a request: bigints as decimal text, bytes as base64; NaN is refused by name. */
function inputJson(value: unknown, name: string): unknown {
  return toJsonValue(value, { path: name, label: "input", bigint: "string", bytes: "base64" });
}

function lookupInput(inputs: Record<string, unknown>, name: string): unknown {
  if (!Object.hasOwn(inputs, name)) {
    throw new FlyteAgentError(
      ErrorCode.INVALID_TASK_TEMPLATE,
      `the webhook config refers to {{inputs.${name}}} but the task has no input "${name}" (inputs: ${
        Object.keys(inputs).join(", ") || "none"
      })`,
    );
  }
  return inputs[name];
}

async function renderTemplate(
  text: string,
  inputs: Record<string, unknown>,
  secrets: SecretsOptions,
  encode: (s: string) => string,
): Promise<string> {
  const parts: string[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    parts.push(text.slice(last, m.index));
    const [, kind, name] = m as unknown as [string, "inputs" | "secrets", string];
    const value =
      kind === "inputs" ? inputText(lookupInput(inputs, name), name) : await getAgentSecret(name, secrets);
    parts.push(encode(value));
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return parts.join("");
}

async function renderJson(
  value: unknown,
  inputs: Record<string, unknown>,
  secrets: SecretsOptions,
): Promise<unknown> {
  if (typeof value === "string") {
    const whole = WHOLE_PLACEHOLDER.exec(value);
    if (whole) return inputJson(lookupInput(inputs, whole[1]!) ?? null, whole[1]!);
    return renderTemplate(value, inputs, secrets, String);
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => renderJson(v, inputs, secrets)));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await renderJson(v, inputs, secrets);
    return out;
  }
  return value;
}
