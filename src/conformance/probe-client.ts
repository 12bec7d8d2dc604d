import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import {
  type ChannelCredentials,
  type ChannelOptions,
  Client,
  credentials,
  Metadata,
  type ServiceError,
} from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import {
  AgentMetadataServiceService,
  AsyncAgentServiceService,
  SyncAgentServiceService,
} from "../gen/flyteidl/service/agent.js";
import type { ExecuteTaskSyncRequest, ExecuteTaskSyncResponse } from "../gen/flyteidl/admin/agent.js";
import { grpcTarget, statusName, type TlsOptions } from "../executor/transport.js";

/** A call that answered: the message, its size on the wire and how long it took. */
export interface Timed<T> {
  readonly value: T;
  /** Size of the serialized response (the largest message for streams). */
  readonly bytes: number;
  readonly ms: number;
}

/** A call that ended with a non-OK status. */
export class CallFailure extends Error {
  /** The status message. */
  readonly details: string;
  constructor(
    readonly method: string,
    readonly code: number,
    readonly codeName: string,
    details: string,
    readonly ms: number,
  ) {
    super(`${method}: ${codeName}: ${details}`);
    // grpc-js appends an empty "Resolution note:" to connection failures.
    this.details = details.replace(/\s*Resolution note:\s*$/, "");
    this.name = "CallFailure";
  }
}

interface Method<Req, Res> {
  readonly path: string;
  readonly requestSerialize: (value: Req) => Buffer;
  readonly responseDeserialize: (value: Buffer) => Res;
}

type Sized<T> = { readonly message: T; readonly bytes: number };

function sized<T>(decode: (b: Buffer) => T): (b: Buffer) => Sized<T> {
  return (b) => ({ message: decode(b), bytes: b.length });
}

function credentialsFor(tls: boolean | TlsOptions | undefined): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  if (tls === true) return credentials.createSsl();
  const read = (p: string | undefined) => (p ? readFileSync(p) : null);
  return credentials.createSsl(read(tls.caFile), read(tls.keyFile), read(tls.certFile));
}

/**
 * A gRPC client of the agent services that reports what a conformance check needs besides the answer:
 * the exact size of each serialized response and the time it took. It accepts responses of any size
 * (FlytePropeller would refuse those over 4 MiB; the checks report that instead of failing the call),
 * and never retries.
 */
export class ProbeClient {
  private readonly client: Client;

  constructor(
    readonly endpoint: string,
    tls?: boolean | TlsOptions,
  ) {
    const options: ChannelOptions = {
      "grpc.max_receive_message_length": -1,
      "grpc.enable_retries": 0,
    };
    if (typeof tls === "object" && tls.serverName) options["grpc.ssl_target_name_override"] = tls.serverName;
    this.client = new Client(grpcTarget(endpoint), credentialsFor(tls), options);
  }

  private unary<Req, Res>(method: Method<Req, Res>, req: Req, deadlineMs: number): Promise<Timed<Res>> {
    const started = performance.now();
    const name = method.path.slice(method.path.lastIndexOf("/") + 1);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        sized(method.responseDeserialize),
        req,
        new Metadata(),
        { deadline: Date.now() + deadlineMs },
        (err: ServiceError | null, res?: Sized<Res>) => {
          const ms = performance.now() - started;
          if (err || !res)
            reject(new CallFailure(name, err?.code ?? 2, statusName(err?.code ?? 2), err?.details ?? "", ms));
          else resolve({ value: res.message, bytes: res.bytes, ms });
        },
      );
    });
  }

  readonly createTask = (
    req: Parameters<typeof AsyncAgentServiceService.createTask.requestSerialize>[0],
    deadlineMs: number,
  ) => this.unary(AsyncAgentServiceService.createTask, req, deadlineMs);

  readonly getTask = (
    req: Parameters<typeof AsyncAgentServiceService.getTask.requestSerialize>[0],
    deadlineMs: number,
  ) => this.unary(AsyncAgentServiceService.getTask, req, deadlineMs);

  readonly deleteTask = (
    req: Parameters<typeof AsyncAgentServiceService.deleteTask.requestSerialize>[0],
    deadlineMs: number,
  ) => this.unary(AsyncAgentServiceService.deleteTask, req, deadlineMs);

  readonly listAgents = (deadlineMs: number) =>
    this.unary(AgentMetadataServiceService.listAgents, {}, deadlineMs);

  readonly getAgent = (name: string, deadlineMs: number) =>
    this.unary(AgentMetadataServiceService.getAgent, { name }, deadlineMs);

  /** `grpc.health.v1.Health/Check` for the whole server. */
  health(deadlineMs: number): Promise<Timed<{ status: string }>> {
    const check = healthService.Check as unknown as Method<{ service: string }, { status: string }>;
    return this.unary(check, { service: "" }, deadlineMs);
  }

  /**
   * ExecuteTaskSync as FlytePropeller sends it (header, inputs, half-close); collects every answer
   * until the server ends the stream.
   */
  executeTaskSync(
    messages: readonly ExecuteTaskSyncRequest[],
    deadlineMs: number,
  ): Promise<Timed<ExecuteTaskSyncResponse[]>> {
    const method = SyncAgentServiceService.executeTaskSync;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const stream = this.client.makeBidiStreamRequest(
        method.path,
        method.requestSerialize,
        sized(method.responseDeserialize),
        new Metadata(),
        { deadline: Date.now() + deadlineMs },
      );
      const received: ExecuteTaskSyncResponse[] = [];
      let bytes = 0;
      stream.on("data", (m: Sized<ExecuteTaskSyncResponse>) => {
        received.push(m.message);
        bytes = Math.max(bytes, m.bytes);
      });
      stream.on("error", (err: ServiceError) =>
        reject(
          new CallFailure(
            "ExecuteTaskSync",
            err.code,
            statusName(err.code),
            err.details,
            performance.now() - started,
          ),
        ),
      );
      stream.on("end", () => resolve({ value: received, bytes, ms: performance.now() - started }));
      for (const m of messages) stream.write(m);
      stream.end();
    });
  }

  close(): void {
    this.client.close();
  }
}
