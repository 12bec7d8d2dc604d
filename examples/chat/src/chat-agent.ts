import {
  ErrorCode,
  FlyteAgentError,
  SyncAgentBase,
  TaskExecutionPhase,
  getAgentSecret,
  type Resource,
  type SecretsOptions,
  type TaskRequest,
} from "flyte-agent";
import { z } from "zod";

/** The task type served. */
export const CHAT_TASK_TYPE = "chat";

/** The chat task's config (`TaskTemplate.custom`). */
export const ChatConfig = z.object({
  /** The model name sent to the endpoint. */
  model: z.string().min(1),
  /** Overrides the agent's base URL for this task (e.g. a self-hosted OpenAI-compatible server). */
  base_url: z.string().min(1).optional(),
  /** A system message put before the user's message. */
  system_prompt: z.string().optional(),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.int().positive().optional(),
  /** Per-request time limit (the gRPC call's deadline applies too). */
  timeout_seconds: z.number().positive().optional(),
});
export type ChatConfig = z.input<typeof ChatConfig>;

/** Options of {@link ChatAgent}. */
export interface ChatAgentOptions {
  /** @default env OPENAI_BASE_URL, else "https://api.openai.com/v1" */
  readonly baseUrl?: string;
  /** The secret holding the API key. @default "openai_api_key" */
  readonly apiKeySecret?: string;
  /** Where the secret is looked up. @default the environment's defaults */
  readonly secrets?: SecretsOptions;
}

const ChatCompletion = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullable() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }).partial().optional(),
});

/**
 * The OpenAI counterpart: a sync agent for task type `chat` that sends the `message` input to an
 * OpenAI-compatible `/chat/completions` endpoint and answers with the reply as output `answer`. The
 * API key comes from the secret `openai_api_key` (env `_FSEC_OPENAI_API_KEY`, or `/etc/secrets`), is
 * resolved on every call, and never enters the task template, resource or logs.
 *
 * A 429 or 5xx answer is RETRYABLE_FAILED (FlytePropeller retries the task if it has retries left);
 * any other non-2xx is FAILED. Both carry agent error code `HTTP_<status>`.
 */
export class ChatAgent extends SyncAgentBase {
  readonly #baseUrl: string;
  readonly #apiKeySecret: string;
  readonly #secrets: SecretsOptions;

  constructor(options: ChatAgentOptions = {}) {
    super({ taskTypeName: CHAT_TASK_TYPE, name: "Chat" });
    this.#baseUrl = options.baseUrl ?? process.env.OPENAI_BASE_URL ?? "https://api.openai.com/v1";
    this.#apiKeySecret = options.apiKeySecret ?? "openai_api_key";
    this.#secrets = options.secrets ?? {};
  }

  override async do(request: TaskRequest): Promise<Resource> {
    const parsed = ChatConfig.safeParse(request.taskTemplate.custom ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
      throw new FlyteAgentError(
        ErrorCode.INVALID_TASK_TEMPLATE,
        `invalid chat config (${issues.join("; ")})`,
      );
    }
    const config = parsed.data;
    const message = request.inputs.message;
    if (typeof message !== "string" || message === "") {
      throw new FlyteAgentError(
        ErrorCode.TYPE_MISMATCH,
        'a chat task needs a non-empty string input "message"',
      );
    }
    const apiKey = await getAgentSecret(this.#apiKeySecret, this.#secrets);
    const url = `${(config.base_url ?? this.#baseUrl).replace(/\/+$/, "")}/chat/completions`;
    const body = {
      model: config.model,
      messages: [
        ...(config.system_prompt ? [{ role: "system", content: config.system_prompt }] : []),
        { role: "user", content: message },
      ],
      ...(config.temperature !== undefined ? { temperature: config.temperature } : {}),
      ...(config.max_tokens !== undefined ? { max_tokens: config.max_tokens } : {}),
    };
    const signal =
      config.timeout_seconds === undefined
        ? request.signal
        : AbortSignal.any([request.signal, AbortSignal.timeout(config.timeout_seconds * 1000)]);

    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (request.signal.aborted) throw err;
      const reason =
        err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw new FlyteAgentError(ErrorCode.AGENT_FAILURE, `cannot reach ${url}: ${reason}`, { cause: err });
    }
    const text = await response.text();
    if (!response.ok) {
      const transient = response.status === 429 || response.status >= 500;
      return {
        phase: transient ? TaskExecutionPhase.RETRYABLE_FAILED : TaskExecutionPhase.FAILED,
        message: `${url} answered ${response.status}: ${apiErrorMessage(text)}`,
        agentError: { code: `HTTP_${response.status}`, kind: transient ? "RECOVERABLE" : "NON_RECOVERABLE" },
      };
    }
    let completion: z.output<typeof ChatCompletion>;
    try {
      completion = ChatCompletion.parse(JSON.parse(text));
    } catch {
      throw new FlyteAgentError(
        ErrorCode.AGENT_FAILURE,
        `${url} answered 2xx with a body that is not a chat completion: ${text.slice(0, 200)}`,
      );
    }
    const choice = completion.choices[0]!;
    return {
      phase: TaskExecutionPhase.SUCCEEDED,
      outputs: { answer: choice.message.content ?? "" },
      customInfo: {
        model: completion.model ?? config.model,
        finish_reason: choice.finish_reason ?? null,
        ...(completion.usage ? { usage: completion.usage } : {}),
      },
    };
  }
}

/** The API's own error message (`{"error": {"message": ...}}`), else the start of the body. */
function apiErrorMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === "string") return parsed.error.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.length > 300 ? `${text.slice(0, 300)}…` : text || "(empty body)";
}
