import { createServer, type Server as HttpServer } from "node:http";

/** A running `/metrics` HTTP endpoint. */
export interface MetricsEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

/** What a scrape answers: the metrics in Prometheus' text format and its content type. */
export type CollectMetrics = () => Promise<{ text: string; contentType: string }>;

/**
 * Serves `GET /metrics` (and `/` for convenience) with what `collect` gives. Imports nothing but
 * node:http, so `serve --workers`' primary can serve the workers' metrics without loading the server.
 */
export async function startMetricsHttpEndpoint(
  collect: CollectMetrics,
  host: string,
  port: number,
): Promise<MetricsEndpoint> {
  const server: HttpServer = createServer((req, res) => {
    const url = req.url?.split("?")[0];
    if (req.method !== "GET" || (url !== "/metrics" && url !== "/")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics\n");
      return;
    }
    collect().then(
      ({ text, contentType }) => res.writeHead(200, { "content-type": contentType }).end(text),
      (err: unknown) =>
        res
          .writeHead(500, { "content-type": "text/plain" })
          .end(`${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
