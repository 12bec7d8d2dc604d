import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import {
  type ChannelCredentials,
  type ChannelOptions,
  Client,
  type ClientDuplexStream,
  credentials,
  Metadata,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";

/** TLS settings for a remote endpoint. FlytePropeller itself trusts the system roots only. */
export interface TlsOptions {
  /** PEM file of the CA that signed the server certificate. @default the bundled roots */
  readonly caFile?: string;
  /** Client certificate and key (PEM files), for servers that ask for one. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Host name to verify instead of the endpoint's. */
  readonly serverName?: string;
}

/** How a client of the agent or connector services connects. */
export interface AgentClientOptions {
  /** `true`: TLS with the bundled roots; an object: TLS with those files. @default false (plaintext) */
  readonly tls?: boolean | TlsOptions;
  /** A gRPC service config (JSON), e.g. `{"loadBalancingConfig": [{"round_robin":{}}]}`. */
  readonly serviceConfig?: string;
  /**
   * The largest response accepted, in bytes; -1 for any size (to measure an oversized answer).
   * @default gRPC's 4 MiB, which FlytePropeller and Flyte 2's executor keep
   */
  readonly maxReceiveMessageBytes?: number;
  /** HTTP/2 keepalive pings while calls are active. @default none */
  readonly keepalive?: { readonly timeMs: number; readonly timeoutMs: number };
}

/** Per-call options. */
export interface CallOptions {
  /** Milliseconds until the call's deadline; 0 or undefined for none. */
  readonly deadlineMs?: number;
  /** Cancels the call. */
  readonly signal?: AbortSignal;
}

/** An answer with its size on the wire (the serialized response, never re-encoded) and duration. */
export interface Answer<T> {
  readonly value: T;
  readonly bytes: number;
  readonly ms: number;
}

/** The status name of a gRPC code, e.g. `NOT_FOUND` (`CODE_n` for a code gRPC does not define). */
export function statusName(code: number): string {
  return (status as unknown as Record<number, string | undefined>)[code] ?? `CODE_${code}`;
}

/** A call that ended with a non-OK status. */
export class RpcError extends Error {
  /** The status message. */
  readonly details: string;
  constructor(
    /** The RPC's method name, e.g. `GetTask`. */
    readonly method: string,
    /** gRPC status code. */
    readonly code: number,
    details: string,
    /** From sending the request to the error. */
    readonly ms: number,
  ) {
    // grpc-js appends an empty "Resolution note:" to connection failures.
    const clean = details.replace(/\s*Resolution note:\s*$/, "");
    super(`${method} failed: ${statusName(code)}: ${clean}`);
    this.details = clean;
    this.name = "RpcError";
  }

  /** The status name, e.g. `UNAVAILABLE`. */
  get codeName(): string {
    return statusName(this.code);
  }
}

/** Strips schemes grpc-js does not know (`k8s://svc.ns:port` is resolved by DNS here). */
export function grpcTarget(endpoint: string): string {
  const k8s = /^k8s:\/\/(.+)$/.exec(endpoint);
  return k8s ? `dns:///${k8s[1]}` : endpoint;
}

function channelCredentials(tls: boolean | TlsOptions | undefined): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  if (tls === true) return credentials.createSsl();
  const read = (p: string | undefined) => (p ? readFileSync(p) : null);
  return credentials.createSsl(read(tls.caFile), read(tls.keyFile), read(tls.certFile));
}

/** A method of a generated grpc-js service definition (only what a client needs). */
export interface Method<Req, Res> {
  readonly path: string;
  readonly requestSerialize: (value: Req) => Buffer;
  readonly responseDeserialize: (value: Buffer) => Res;
}

/** A decoded message with the length of the buffer it came in. */
export interface Sized<T> {
  readonly message: T;
  readonly bytes: number;
}

/** Decodes a response and keeps the length of the buffer it came in: its size on the wire. */
function sized<T>(decode: (b: Buffer) => T): (b: Buffer) => Sized<T> {
  return (b) => ({ message: decode(b), bytes: b.length });
}

/** The method name of a gRPC path, e.g. `GetTask`. */
export const nameOf = (path: string): string => path.slice(path.lastIndexOf("/") + 1);

const callDeadline = (opts: CallOptions) =>
  opts.deadlineMs ? { deadline: Date.now() + opts.deadlineMs } : {};

/**
 * One grpc-js channel with the connection rules every client here shares: credentials and TLS, the
 * service config, no retries inside the channel unless the service config asks for them (grpc-go
 * applies only a configured retryPolicy), the receive limit, per-call deadlines and cancellation, and
 * answers that keep their size on the wire. The Flyte 1 and Flyte 2 clients are thin method tables
 * over it.
 */
export class RpcChannel {
  private readonly client: Client;

  constructor(endpoint: string, options: AgentClientOptions = {}) {
    const channel: ChannelOptions = {};
    if (options.serviceConfig) channel["grpc.service_config"] = options.serviceConfig;
    if (!options.serviceConfig?.includes("retryPolicy")) channel["grpc.enable_retries"] = 0;
    if (options.maxReceiveMessageBytes !== undefined)
      channel["grpc.max_receive_message_length"] = options.maxReceiveMessageBytes;
    if (options.keepalive) {
      channel["grpc.keepalive_time_ms"] = options.keepalive.timeMs;
      channel["grpc.keepalive_timeout_ms"] = options.keepalive.timeoutMs;
    }
    if (typeof options.tls === "object" && options.tls.serverName)
      channel["grpc.ssl_target_name_override"] = options.tls.serverName;
    this.client = new Client(grpcTarget(endpoint), channelCredentials(options.tls), channel);
  }

  /** One unary call. @throws RpcError on a non-OK status (the deadline and cancellation included). */
  unary<Req, Res>(method: Method<Req, Res>, req: Req, opts: CallOptions = {}): Promise<Answer<Res>> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const call = this.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        sized(method.responseDeserialize),
        req,
        new Metadata(),
        callDeadline(opts),
        (err: ServiceError | null, res?: Sized<Res>) => {
          opts.signal?.removeEventListener("abort", cancel);
          const ms = performance.now() - started;
          if (err || !res) reject(new RpcError(nameOf(method.path), err?.code ?? 2, err?.details ?? "", ms));
          else resolve({ value: res.message, bytes: res.bytes, ms });
        },
      );
      const cancel = () => call.cancel();
      if (opts.signal?.aborted) call.cancel();
      else opts.signal?.addEventListener("abort", cancel, { once: true });
    });
  }

  /**
   * A server-streaming call, read message by message. Leaving the loop early cancels the stream.
   * @throws RpcError when the stream ends with a non-OK status.
   */
  async *serverStream<Req, Res>(
    method: Method<Req, Res>,
    req: Req,
    opts: CallOptions = {},
  ): AsyncGenerator<Answer<Res>, void, undefined> {
    const started = performance.now();
    const stream = this.client.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      sized(method.responseDeserialize),
      req,
      new Metadata(),
      callDeadline(opts),
    );
    const cancel = () => stream.cancel();
    if (opts.signal?.aborted) stream.cancel();
    else opts.signal?.addEventListener("abort", cancel, { once: true });
    let done = false;
    try {
      // Readable streams are async iterables; a failed call throws its ServiceError from the loop.
      for await (const m of stream as AsyncIterable<Sized<Res>>) {
        yield { value: m.message, bytes: m.bytes, ms: performance.now() - started };
      }
      done = true;
    } catch (err) {
      const e = err as Partial<ServiceError>;
      throw new RpcError(
        nameOf(method.path),
        e.code ?? 2,
        e.details ?? String(err),
        performance.now() - started,
      );
    } finally {
      opts.signal?.removeEventListener("abort", cancel);
      if (!done) stream.cancel();
    }
  }

  /** Opens a bidi stream whose responses keep their wire size (the caller writes, reads, cancels). */
  bidi<Req, Res>(method: Method<Req, Res>, opts: CallOptions = {}): ClientDuplexStream<Req, Sized<Res>> {
    return this.client.makeBidiStreamRequest(
      method.path,
      method.requestSerialize,
      sized(method.responseDeserialize),
      new Metadata(),
      callDeadline(opts),
    );
  }

  /** `grpc.health.v1.Health/Check` for the whole server. */
  health(opts: CallOptions = {}): Promise<Answer<{ status: string }>> {
    const check = healthService.Check as unknown as Method<{ service: string }, { status: string }>;
    return this.unary(check, { service: "" }, opts);
  }

  close(): void {
    this.client.close();
  }
}
