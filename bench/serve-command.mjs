// The command line every benchmark starts the agent server with: the real binary, as users start it,
// on loopback, serving only the given module, with metrics on a free port.
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Arguments for `node` that run `flyte-agent serve agent` on `port` serving `module`. */
export function serveAgentArgs({ port, module, extra = [] }) {
  return [
    path.join(root, "bin/flyte-agent.js"),
    "serve",
    "agent",
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "-m",
    module,
    "--no-discover",
    "--prometheus-port",
    "0",
    ...extra,
  ];
}
