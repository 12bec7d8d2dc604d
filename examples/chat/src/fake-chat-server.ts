import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";

/** A request the fake server received. */
export interface FakeChatRequest {
  readonly authorization: string | undefined;
  readonly body: { model?: string; messages?: { role: string; content: string }[] };
}

/** A running {@link startFakeChatServer}. */
export interface FakeChatServer {
  /** The base URL to configure (`http://127.0.0.1:<port>/v1`). */
  readonly baseUrl: string;
  readonly requests: readonly FakeChatRequest[];
  close(): Promise<void>;
}

/** Options of {@link startFakeChatServer}. */
export interface FakeChatServerOptions {
  /** The only API key accepted (others get 401). @default "sk-local" */
  readonly apiKey?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
}

/**
 * A local stand-in for an OpenAI-compatible API, enough for the chat example to run offline:
 * `POST /v1/chat/completions` answers by echoing the last user message reversed and upper-cased. A
 * message containing `[status:NNN]` gets an API error with that status.
 */
export async function startFakeChatServer(options: FakeChatServerOptions = {}): Promise<FakeChatServer> {
  const apiKey = options.apiKey ?? "sk-local";
  const requests: FakeChatRequest[] = [];
  const server: Server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      const json = (status: number, value: unknown) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
        return json(404, {
          error: { message: `no route ${req.method} ${req.url}`, type: "invalid_request_error" },
        });
      }
      let body: FakeChatRequest["body"];
      try {
        body = JSON.parse(raw) as FakeChatRequest["body"];
      } catch {
        return json(400, { error: { message: "body is not JSON", type: "invalid_request_error" } });
      }
      requests.push({ authorization: req.headers.authorization, body });
      if (req.headers.authorization !== `Bearer ${apiKey}`) {
        return json(401, { error: { message: "Incorrect API key provided", type: "invalid_request_error" } });
      }
      const last = [...(body.messages ?? [])].reverse().find((m) => m.role === "user")?.content ?? "";
      const forced = /\[status:(\d{3})\]/.exec(last);
      if (forced)
        return json(Number(forced[1]), { error: { message: `forced status ${forced[1]}`, type: "test" } });
      return json(200, {
        id: `chatcmpl-${requests.length}`,
        object: "chat.completion",
        model: body.model ?? "fake",
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: [...last].reverse().join("").toUpperCase() },
            finish_reason: "stop",
          },
        ],
        usage: { prompt_tokens: last.length, completion_tokens: last.length, total_tokens: 2 * last.length },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString()));
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });
}

// `npx tsx examples/chat/src/fake-chat-server.ts [port]` runs it for trying the example by hand.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = await startFakeChatServer({ port: Number(process.argv[2] ?? 0) });
  process.stdout.write(
    `fake chat API at ${server.baseUrl} (API key "sk-local"); Ctrl-C to stop\n` +
      `  export OPENAI_BASE_URL=${server.baseUrl} _FSEC_OPENAI_API_KEY=sk-local\n`,
  );
}
