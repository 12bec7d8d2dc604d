/**
 * The container's health check: exits 0 when the agent server on this machine answers the standard
 * gRPC health check (`grpc.health.v1.Health/Check`) with SERVING, else 1. Used by the Dockerfile's
 * HEALTHCHECK; Kubernetes can probe the same service natively (`grpc:` probes).
 */
import { Client, credentials } from "@grpc/grpc-js";

const SERVING = Buffer.from([0x08, 0x01]); // HealthCheckResponse{status: SERVING}
const port = process.env.PORT ?? "8000";
const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());

client.makeUnaryRequest(
  "/grpc.health.v1.Health/Check",
  // An empty HealthCheckRequest asks about the server as a whole.
  () => Buffer.alloc(0),
  (bytes: Buffer) => bytes,
  {},
  { deadline: Date.now() + 3000 },
  (err, response) => {
    client.close();
    process.exitCode = !err && response?.equals(SERVING) ? 0 : 1;
  },
);
