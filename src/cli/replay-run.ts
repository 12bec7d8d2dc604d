// `flyte-agent run --replay <file>`: send a request `serve --record` wrote, as it was, to a local agent
// (in-process), --endpoint or a propeller --config.
import { ExitCode, UsageError } from "@flyte-agent/runtime/internal/cli/errors.js";
import {
  configFlag,
  durationFlag,
  retriesFlag,
  type TlsFlags,
  tlsFromFlags,
} from "@flyte-agent/runtime/internal/cli/flags.js";
import { interruptOnSigint } from "./interrupt.js";

/** The `run` flags a replay reads. */
export interface ReplayRunFlags extends TlsFlags {
  replay: string;
  outputPrefix?: string;
  endpoint?: string;
  config?: string;
  modules: string[];
  timeout?: string;
  retries?: string;
  pollInterval?: string;
  propellerTiming?: boolean;
  strict?: boolean;
  verbose?: boolean;
  json?: boolean;
  outputDir?: string;
  env: string[];
}

/**
 * Replays a recorded request. In-process, the agent modules are `--modules` plus those the
 * package.json files of the working directory declare (as `serve` finds them).
 * @throws UsageError / FlyteAgentError (INVALID_CONFIG) with one sentence: exit code 2.
 */
export async function replayRun(flags: ReplayRunFlags, args: readonly string[]): Promise<void> {
  if (args.length > 0) {
    throw new UsageError(
      `--replay takes the task, its inputs and metadata from the recorded file: drop "${args.join(" ")}"`,
    );
  }
  if (flags.env.length > 0) {
    throw new UsageError(
      "--env does not apply to --replay: the recorded task execution metadata is sent as it was",
    );
  }
  if (flags.endpoint && flags.config) throw new UsageError("use either --endpoint or --config, not both");
  const { readRecordedRequest, replayRequest } = await import("../executor/replay.js");
  const request = await readRecordedRequest(flags.replay);
  const timeoutMs = durationFlag("--timeout", flags.timeout);
  const pollIntervalMs = durationFlag("--poll-interval", flags.pollInterval);
  const retries = retriesFlag(flags.retries);
  const config = await configFlag(flags.config);
  const tls = tlsFromFlags(flags);

  let server: { address: string; shutdown(graceMs?: number): Promise<void> } | undefined;
  if (!flags.endpoint && !config) {
    const { AgentRegistry } = await import("@flyte-agent/runtime/internal/core/registry.js");
    const { formatCategory } = await import("@flyte-agent/runtime/internal/core/task-category.js");
    const { loadAgentModules } = await import("@flyte-agent/runtime/internal/server/module-loader.js");
    await loadAgentModules({ modules: flags.modules, cwd: process.cwd(), discover: true });
    const { type, taskTypeVersion } = request.template;
    if (!AgentRegistry.default.has(type, taskTypeVersion)) {
      const served = AgentRegistry.default
        .listAgents()
        .flatMap((a) => a.categories.map(formatCategory))
        .sort();
      throw new UsageError(
        `no loaded agent serves task type ${formatCategory({ name: type, version: taskTypeVersion })} of the recorded request; ` +
          (served.length
            ? `the loaded agents serve ${served.join(", ")}`
            : "no agent is loaded: name the agent module with --modules (e.g. --modules src/agent.ts) or replay against --endpoint"),
      );
    }
    const { AgentServer } = await import("@flyte-agent/runtime/internal/server/server.js");
    server = await AgentServer.start({ host: "127.0.0.1", port: 0, registry: AgentRegistry.default });
  }
  const { createRunRenderer } = await import("./render/run-renderer.js");
  const renderer = createRunRenderer({ json: flags.json === true, out: process.stdout, err: process.stderr });
  const controller = new AbortController();
  const stopInterrupts = interruptOnSigint(controller, (text) => renderer.note(text));
  try {
    const result = await replayRequest({
      request,
      ...(flags.endpoint ? { endpoint: flags.endpoint, tls } : {}),
      ...(server ? { endpoint: server.address } : {}),
      ...(config ? { config, tls } : {}),
      ...(flags.outputPrefix !== undefined ? { outputPrefix: flags.outputPrefix } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(retries !== undefined ? { retries } : {}),
      ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}),
      ...(flags.outputDir ? { outputDir: flags.outputDir } : {}),
      propellerTiming: flags.propellerTiming === true,
      strict: flags.strict === true,
      midPhaseEvents: flags.verbose === true,
      signal: controller.signal,
      onEvent: (e) => renderer.onEvent(e),
    });
    renderer.finish(result);
    if (result.interrupted === "interrupted") process.exitCode = ExitCode.INTERRUPTED;
    else if (!result.succeeded) process.exitCode = ExitCode.FAILURE;
  } finally {
    stopInterrupts();
    await server?.shutdown(1_000);
  }
}
