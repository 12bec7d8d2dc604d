import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { silentLogger, type TaskRequest } from "../core/context.js";
import { TaskExecutionPhase } from "../core/phase.js";
import type { TaskDefinition } from "../task/define-task.js";
import { defineWebhookTask } from "./define-webhook-task.js";
import { WebhookAgent } from "./webhook-agent.js";

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

function request(
  task: TaskDefinition<any, any, any>,
  inputs: Record<string, unknown>,
  signal = new AbortController().signal,
): TaskRequest {
  return {
    signal,
    logger: silentLogger,
    outputPrefix: "",
    taskTemplate: task.template(),
    inputs,
    inputLiterals: task.encodeInputs(inputs),
    taskExecutionMetadata: undefined,
  };
}

describe("WebhookAgent against a local HTTP server", () => {
  let server: Server;
  let base: string;
  const seen: Seen[] = [];
  const hang = new Set<() => void>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        if (req.url?.startsWith("/fail")) {
          res.writeHead(503, { "content-type": "text/plain" }).end("backend is down for maintenance");
        } else if (req.url?.startsWith("/json")) {
          res.writeHead(200, { "content-type": "application/json" }).end('{"ok": true, "n": 2}');
        } else if (req.url?.startsWith("/hang")) {
          hang.add(() => res.end());
        } else {
          res.writeHead(201).end(`created ${req.url}`);
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const release of hang) release();
    await new Promise((r) => server.close(r));
  });

  it("templates inputs into the URL, headers and JSON body and returns status and body", async () => {
    const task = defineWebhookTask({
      name: "notify",
      url: `${base}/hooks/{{inputs.channel}}?q={{ inputs.message }}`,
      headers: { "x-user": "{{inputs.user}}", authorization: "Bearer {{secrets.hook_token}}" },
      body: { text: "hello {{inputs.user}}", count: "{{inputs.count}}", tags: ["{{inputs.channel}}"] },
      inputs: { channel: z.string(), message: z.string(), user: z.string(), count: z.int() },
    });
    const agent = new WebhookAgent({ secrets: { env: { _FSEC_HOOK_TOKEN: "s3cret" } } });
    const resource = await agent.do(
      request(task, { channel: "a/b", message: "x & y", user: "ana", count: 3 }),
    );
    expect(resource.phase).toBe(TaskExecutionPhase.SUCCEEDED);
    const last = seen.at(-1)!;
    expect(last.method).toBe("POST");
    expect(last.url).toBe("/hooks/a%2Fb?q=x%20%26%20y");
    expect(last.headers["x-user"]).toBe("ana");
    expect(last.headers.authorization).toBe("Bearer s3cret");
    expect(last.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(last.body)).toEqual({ text: "hello ana", count: 3, tags: ["a/b"] });
    expect(resource.outputs).toEqual({ status: 201, body: "created /hooks/a%2Fb?q=x%20%26%20y" });
    expect(task.decodeOutputs(task.encodeOutputs(resource.outputs as never))).toEqual(resource.outputs);
  });

  it("fails with HTTP_<status> and the start of the answer on a non-2xx response", async () => {
    const task = defineWebhookTask({ name: "f", url: `${base}/fail?token=abc`, method: "GET" });
    const resource = await new WebhookAgent().do(request(task, {}));
    expect(resource.phase).toBe(TaskExecutionPhase.FAILED);
    expect(resource.agentError?.code).toBe("HTTP_503");
    expect(resource.message).toBe(
      `webhook GET ${base}/fail answered 503 Service Unavailable: backend is down for maintenance`,
    );
    expect(resource.message).not.toContain("abc");
  });

  it("returns a JSON body as an object when asked", async () => {
    const task = defineWebhookTask({ name: "j", url: `${base}/json`, method: "GET", responseType: "json" });
    const resource = await new WebhookAgent().do(request(task, {}));
    expect(resource.outputs).toEqual({ status: 200, body: { ok: true, n: 2 } });
    expect(task.decodeOutputs(task.encodeOutputs(resource.outputs as never))).toEqual(resource.outputs);
  });

  it("stops the HTTP call when the agent call is cancelled", async () => {
    const task = defineWebhookTask({ name: "h", url: `${base}/hang`, method: "GET" });
    const controller = new AbortController();
    const pending = new WebhookAgent().do(request(task, {}, controller.signal));
    controller.abort(new Error("deadline exceeded"));
    await expect(pending).rejects.toThrow("deadline exceeded");
  });

  it("names a missing input and an invalid config", async () => {
    const task = defineWebhookTask({ name: "m", url: `${base}/{{inputs.nope}}` });
    await expect(new WebhookAgent().do(request(task, {}))).rejects.toThrow(
      /refers to \{\{inputs.nope\}\} but the task has no input "nope"/,
    );
    const bad = { ...request(task, {}), taskTemplate: { ...task.template(), custom: { method: "GET" } } };
    await expect(new WebhookAgent().do(bad)).rejects.toThrow(/invalid webhook config \(url: /);
  });

  it("says which URL could not be reached", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const task = defineWebhookTask({ name: "c", url: `http://127.0.0.1:${port}/x`, method: "GET" });
    await expect(new WebhookAgent().do(request(task, {}))).rejects.toThrow(
      new RegExp(`webhook GET http://127.0.0.1:${port}/x failed: .*ECONNREFUSED`),
    );
  });
});
