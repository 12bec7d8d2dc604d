// A raw HTTP/2 gRPC client: it sends whatever bytes it is given and reports what came back, so the
// fuzz suite controls every byte of a request.
import http2 from "node:http2";

/** What one raw request got back. */
export interface WireResult {
  readonly httpStatus: number | undefined;
  /** The numeric grpc-status, from the trailers or a trailers-only response. */
  readonly grpcStatus: number | undefined;
  /** grpc-message, percent-decoded. */
  readonly grpcMessage: string;
  readonly trailersOnly: boolean;
  /** Length-prefixed messages in the response body; -1 when the body is not whole frames. */
  readonly messages: number;
  readonly responseBytes: number;
  /** Set when no status arrived: the stream failed, was reset, or the deadline passed. */
  readonly failure: string | undefined;
  /**
   * The status came while the request was still being sent, and the client reset the stream, as
   * gRPC clients do: the server stops reading a call it has answered (an oversized message), so the
   * rest of the body would wait on flow control forever.
   */
  readonly answeredEarly: boolean;
  /** The session went away under this request (GOAWAY or a closed socket). */
  readonly sessionLost: boolean;
  readonly ms: number;
}

interface Slot {
  session: http2.ClientHttp2Session;
  dead: boolean;
}

/** Percent-decodes a grpc-message as the gRPC spec encodes it. */
function decodeGrpcMessage(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Counts whole length-prefixed messages; -1 when the bytes do not split into frames. */
function countMessages(body: Buffer): number {
  let i = 0;
  let n = 0;
  while (i < body.length) {
    if (i + 5 > body.length) return -1;
    i += 5 + body.readUInt32BE(i + 1);
    n++;
  }
  return i === body.length ? n : -1;
}

/** A few HTTP/2 sessions to one server, replaced when the server closes one. */
export class RawGrpcClient {
  readonly #authority: string;
  readonly #slots: Slot[] = [];
  #turn = 0;
  /** Sessions opened to replace one the server closed. */
  reconnects = 0;
  /** GOAWAY frames received, by error code. */
  readonly goaways = new Map<number, number>();

  constructor(authority: string, sessions = 2) {
    this.#authority = authority;
    for (let i = 0; i < sessions; i++) this.#slots.push(this.#open());
  }

  #open(): Slot {
    // Node's client refuses new streams (ENHANCE_YOUR_CALM) once its session buffers more than
    // maxSessionMemory (10 MB by default): a 4 MiB upload among two dozen others gets there.
    const session = http2.connect(this.#authority, { maxSessionMemory: 1024 });
    const slot: Slot = { session, dead: false };
    session.on("goaway", (code: number) => {
      slot.dead = true;
      this.goaways.set(code, (this.goaways.get(code) ?? 0) + 1);
    });
    // A session error also ends its streams, which report it; here it only marks the slot.
    session.on("error", () => (slot.dead = true));
    session.on("close", () => (slot.dead = true));
    return slot;
  }

  #session(): { slot: Slot; session: http2.ClientHttp2Session } {
    const i = this.#turn++ % this.#slots.length;
    let slot = this.#slots[i]!;
    if (slot.dead || slot.session.closed || slot.session.destroyed) {
      slot.session.destroy();
      slot = this.#open();
      this.#slots[i] = slot;
      this.reconnects++;
    }
    return { slot, session: slot.session };
  }

  /** Sends `body` (then END_STREAM) to `path` and waits for the status, at most `timeoutMs`. */
  send(
    path: string,
    body: Buffer,
    headers: Readonly<Record<string, string>>,
    timeoutMs: number,
  ): Promise<WireResult> {
    const started = performance.now();
    const { slot, session } = this.#session();
    return new Promise<WireResult>((resolve) => {
      let httpStatus: number | undefined;
      let grpcStatus: number | undefined;
      let grpcMessage = "";
      let trailersOnly = false;
      let answeredEarly = false;
      let failure: string | undefined;
      const chunks: Buffer[] = [];
      const take = (h: http2.IncomingHttpHeaders): void => {
        const s = h["grpc-status"];
        if (s !== undefined) {
          grpcStatus = Number(s);
          const m = h["grpc-message"];
          grpcMessage = decodeGrpcMessage(typeof m === "string" ? m : "");
          if (!stream.writableFinished) {
            answeredEarly = true;
            stream.close(http2.constants.NGHTTP2_CANCEL);
          }
        }
      };
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request({
          ":method": "POST",
          ":path": path,
          "content-type": "application/grpc",
          te: "trailers",
          ...headers,
        });
      } catch (err) {
        resolve(result(`request failed: ${(err as Error).message}`));
        return;
      }
      const timer = setTimeout(() => {
        failure = `no status within ${timeoutMs} ms`;
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }, timeoutMs);
      stream.on("response", (h) => {
        httpStatus = Number(h[":status"]);
        if (h["grpc-status"] !== undefined) trailersOnly = true;
        take(h);
      });
      stream.on("trailers", take);
      stream.on("data", (c: Buffer) => chunks.push(c));
      // A write error after the server has answered (it may reset a stream it is done reading) is not
      // a failure: the status already came.
      stream.on("error", (err: Error) => {
        if (grpcStatus === undefined) failure ??= `stream error: ${err.message}`;
      });
      stream.on("close", () => {
        clearTimeout(timer);
        if (grpcStatus === undefined) {
          failure ??= `stream closed without a grpc-status (RST code ${stream.rstCode ?? "none"}, HTTP ${httpStatus ?? "none"})`;
        }
        resolve(result(failure));
      });
      stream.end(body);

      function result(f: string | undefined): WireResult {
        const response = Buffer.concat(chunks);
        return {
          httpStatus,
          grpcStatus,
          grpcMessage,
          trailersOnly,
          messages: countMessages(response),
          responseBytes: response.length,
          failure: f,
          answeredEarly,
          sessionLost: slot.dead,
          ms: performance.now() - started,
        };
      }
    });
  }

  close(): void {
    for (const s of this.#slots) s.session.close();
  }
}
