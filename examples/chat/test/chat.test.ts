import { TaskExecutionPhase, type TaskRequest } from "flyte-agent";
import { createTaskRequest, runThroughExecutor, startTestServer } from "flyte-agent/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatAgent } from "../src/chat-agent.js";
import { startFakeChatServer, type FakeChatServer } from "../src/fake-chat-server.js";
import { chat } from "../task.js";

function request(message: string, custom?: Record<string, unknown>): TaskRequest {
  return createTaskRequest(
    chat,
    { message },
    custom ? { editTemplate: (t) => void (t.custom = custom) } : {},
  );
}

describe("ChatAgent against a local OpenAI-compatible server", () => {
  let api: FakeChatServer;
  let agent: ChatAgent;

  beforeAll(async () => {
    api = await startFakeChatServer({ apiKey: "sk-test" });
    agent = new ChatAgent({ baseUrl: api.baseUrl, secrets: { env: { _FSEC_OPENAI_API_KEY: "sk-test" } } });
  });
  afterAll(async () => {
    await api.close();
  });

  it("sends the message with the key from the secrets helper and returns the reply", async () => {
    const resource = await agent.do(request("hello there"));
    expect(resource.phase).toBe(TaskExecutionPhase.SUCCEEDED);
    expect(resource.outputs).toEqual({ answer: "EREHT OLLEH" });
    expect(resource.customInfo).toMatchObject({ model: "gpt-4o-mini", finish_reason: "stop" });
    const sent = api.requests.at(-1)!;
    expect(sent.authorization).toBe("Bearer sk-test");
    expect(sent.body.model).toBe("gpt-4o-mini");
    expect(sent.body.messages).toEqual([
      { role: "system", content: "Answer in one sentence." },
      { role: "user", content: "hello there" },
    ]);
  });

  it("fails with HTTP_401 and the API's own message when the key is wrong", async () => {
    const wrongKey = new ChatAgent({
      baseUrl: api.baseUrl,
      secrets: { env: { _FSEC_OPENAI_API_KEY: "sk-nope" } },
    });
    const resource = await wrongKey.do(request("hi"));
    expect(resource.phase).toBe(TaskExecutionPhase.FAILED);
    expect(resource.agentError).toEqual({ code: "HTTP_401", kind: "NON_RECOVERABLE" });
    expect(resource.message).toBe(`${api.baseUrl}/chat/completions answered 401: Incorrect API key provided`);
    expect(resource.message).not.toContain("sk-nope");
  });

  it("reports a 5xx or 429 answer as a retryable failure", async () => {
    for (const status of [503, 429]) {
      const resource = await agent.do(request(`please [status:${status}]`));
      expect(resource.phase).toBe(TaskExecutionPhase.RETRYABLE_FAILED);
      expect(resource.agentError?.code).toBe(`HTTP_${status}`);
    }
  });

  it("takes the base URL from the task config over the agent's", async () => {
    const elsewhere = new ChatAgent({
      baseUrl: "http://127.0.0.1:9/v1",
      secrets: { env: { _FSEC_OPENAI_API_KEY: "sk-test" } },
    });
    const custom = { ...(chat.template().custom as Record<string, unknown>), base_url: api.baseUrl };
    expect((await elsewhere.do(request("abc", custom))).outputs).toEqual({ answer: "CBA" });
  });

  it("says which secret is missing", async () => {
    const noKey = new ChatAgent({ baseUrl: api.baseUrl, secrets: { env: {}, directory: "/nonexistent" } });
    await expect(noKey.do(request("hi"))).rejects.toThrow(/secret "openai_api_key" not found/);
  });

  it("is served through the real gRPC server", async () => {
    await using server = await startTestServer({ agents: [agent] });
    const result = await runThroughExecutor(chat, { message: "flyte" }, { server });
    expect(result.phase).toBe("SUCCEEDED");
    expect(result.outputs).toEqual({ answer: "ETYLF" });
  });
});
