import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  Server,
  ServerCredentials,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import {
  AsyncConnectorServiceService,
  ConnectorMetadataServiceService,
} from "../../gen/v2/flyteidl2/connector/service.js";
import { deferredService, type ServiceBinding } from "./deferred-service.js";
import { ASYNC_CONNECTOR_SHAPES, CONNECTOR_METADATA_SHAPES } from "./flyte2-shapes.js";

describe("Flyte 2's method shapes", () => {
  it.each([
    ["AsyncConnectorService", ASYNC_CONNECTOR_SHAPES, AsyncConnectorServiceService],
    ["ConnectorMetadataService", CONNECTOR_METADATA_SHAPES, ConnectorMetadataServiceService],
  ] as const)("route %s's methods as the generated definition does", (_name, shapes, generated) => {
    const routed = (d: Record<string, { path: string; requestStream: boolean; responseStream: boolean }>) =>
      Object.fromEntries(Object.entries(d).map(([k, m]) => [k, [m.path, m.requestStream, m.responseStream]]));
    expect(routed(shapes)).toEqual(routed(generated));
  });
});

// A service with JSON messages: `echo` is unary, `count` streams `n` answers; a request whose JSON
// does not parse fails to decode.
const json = {
  requestSerialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  requestDeserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown,
  responseSerialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  responseDeserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown,
};
const loadedBinding: ServiceBinding = {
  definition: {
    echo: { path: "/test.Deferred/Echo", requestStream: false, responseStream: false, ...json },
    count: { path: "/test.Deferred/Count", requestStream: false, responseStream: true, ...json },
  },
  implementation: {
    echo: (call: { request: unknown }, cb: (e: null, v: unknown) => void) => cb(null, { got: call.request }),
    count: (call: { request: { n: number }; write(v: unknown): void; end(): void }) => {
      for (let i = 0; i < call.request.n; i++) call.write({ i });
      call.end();
    },
  },
};
const shapes = {
  echo: { path: "/test.Deferred/Echo", requestStream: false, responseStream: false },
  count: { path: "/test.Deferred/Count", requestStream: false, responseStream: true },
} as const;
const Client = makeGenericClientConstructor(
  {
    echo: { ...loadedBinding.definition.echo!, requestSerialize: (b: Buffer) => b },
    count: { ...loadedBinding.definition.count!, requestSerialize: (b: Buffer) => b },
  },
  "Deferred",
);

let server: Server | undefined;
afterEach(() => server?.forceShutdown());

async function serve(binding: ServiceBinding) {
  server = new Server();
  server.addService(binding.definition, binding.implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server!.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return new Client(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as {
    echo(b: Buffer, md: Metadata, cb: (e: ServiceError | null, v?: unknown) => void): void;
    count(b: Buffer): NodeJS.EventEmitter;
    close(): void;
  };
}

const echo = (client: Awaited<ReturnType<typeof serve>>, body: string) =>
  new Promise<{ err: ServiceError | null; value?: unknown }>((resolve) =>
    client.echo(Buffer.from(body), new Metadata(), (err, value) => resolve({ err, value })),
  );

describe("deferredService", () => {
  it("loads at the first call, once for calls that arrive together, and answers as the loaded service", async () => {
    let loads = 0;
    const client = await serve(
      deferredService(shapes, async () => {
        loads++;
        return loadedBinding;
      }),
    );
    expect(loads).toBe(0);
    const answers = await Promise.all([echo(client, '{"a":1}'), echo(client, '"b"'), echo(client, "[2]")]);
    expect(answers.map((a) => a.value)).toEqual([{ got: { a: 1 } }, { got: "b" }, { got: [2] }]);
    expect(loads).toBe(1);
    const streamed: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = client.count(Buffer.from('{"n":3}'));
      stream.on("data", (d: unknown) => streamed.push(d));
      stream.on("error", reject);
      stream.on("end", resolve);
    });
    expect(streamed).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
    expect(loads).toBe(1);
    client.close();
  });

  it("answers a request that does not decode INTERNAL, as grpc-js does (server-interceptors.ts:794), and keeps serving", async () => {
    const client = await serve(deferredService(shapes, async () => loadedBinding));
    const bad = await echo(client, "{not json");
    expect(bad.err?.code).toBe(status.INTERNAL);
    expect(bad.err?.details).toMatch(/^Error deserializing request: /);
    expect((await echo(client, "1")).value).toEqual({ got: 1 });
    client.close();
  });

  it("answers INTERNAL naming the method when its service cannot load, on unary and streaming calls", async () => {
    const client = await serve(
      deferredService(shapes, () => Promise.reject(new Error("Cannot find module x"))),
    );
    const r = await echo(client, "1");
    expect(r.err?.code).toBe(status.INTERNAL);
    expect(r.err?.details).toBe("/test.Deferred/Echo is unavailable: Cannot find module x");
    const streamErr = await new Promise<ServiceError>((resolve) => {
      const stream = client.count(Buffer.from('{"n":1}'));
      stream.on("data", () => {});
      stream.on("error", resolve);
    });
    expect(streamErr.code).toBe(status.INTERNAL);
    expect(streamErr.details).toBe("/test.Deferred/Count is unavailable: Cannot find module x");
    client.close();
  });
});
