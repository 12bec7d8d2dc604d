import type { ExecutionEvent, ExecutionResult } from "../../executor/index.js";

/** Where the renderer writes; `isTTY` picks the live status line. */
export interface RenderTarget {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** Options of {@link createRunRenderer}. */
export interface RunRendererOptions {
  /** One JSON object per event and a final result on `out`. @default false */
  readonly json?: boolean;
  readonly out: RenderTarget;
  /** Warnings and notes for people. */
  readonly err: RenderTarget;
}

/** Turns executor events into terminal output. */
export interface RunRenderer {
  onEvent(event: ExecutionEvent): void;
  /** A note from the CLI itself (e.g. "interrupting"). */
  note(text: string): void;
  finish(result: ExecutionResult): void;
}

function jsonSafe(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) =>
      typeof v === "bigint" ? v.toString() : Buffer.isBuffer(v) ? v.toString("base64") : v,
    ),
  ) as unknown;
}

function formatValue(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "string") return value;
  const text = JSON.stringify(jsonSafe(value), null, 2) ?? String(value);
  return text.includes("\n") ? `\n${text.replace(/^/gm, "    ")}` : text;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** Builds the renderer for `flyte-agent run`: live line on a TTY, plain lines otherwise, or JSON. */
export function createRunRenderer(options: RunRendererOptions): RunRenderer {
  const { out, err } = options;
  if (options.json) {
    const line = (o: unknown) => out.write(`${JSON.stringify(jsonSafe(o))}\n`);
    return {
      onEvent: (e) => line(e),
      note: (text) => line({ type: "note", message: text }),
      finish: (r) => {
        const { outputLiterals: _l, ...rest } = r;
        line({ type: "result", ...rest });
      },
    };
  }
  const live = out.isTTY === true;
  let status = "";
  let phaseStarted = 0;
  let lastElapsed = 0;
  let ticker: NodeJS.Timeout | undefined;
  const clearLine = () => {
    if (live && status) out.write("\r\x1b[2K");
  };
  const drawStatus = () => {
    if (!live || !status) return;
    out.write(`\r\x1b[2K${status} ${seconds(lastElapsed + (Date.now() - phaseStarted))}`);
  };
  const print = (text: string) => {
    clearLine();
    out.write(`${text}\n`);
    drawStatus();
  };
  const setStatus = (text: string, elapsedMs: number) => {
    status = text;
    lastElapsed = elapsedMs;
    phaseStarted = Date.now();
    if (live && !ticker) {
      ticker = setInterval(drawStatus, 200);
      ticker.unref();
    }
    drawStatus();
  };
  const links = (e: { logLinks: readonly { name: string; uri: string }[]; customInfo?: unknown }) => {
    for (const l of e.logLinks) print(`  log: ${l.name} ${l.uri}`);
    if (e.customInfo && Object.keys(e.customInfo).length > 0)
      print(`  info: ${JSON.stringify(e.customInfo)}`);
  };
  return {
    onEvent(e) {
      switch (e.type) {
        case "started":
          print(
            `running ${e.task} (task type ${e.taskType} v${e.taskTypeVersion}, ${e.sync ? "sync" : "async"}) on ${e.endpoint} [${e.deployment} via ${e.via}]`,
          );
          break;
        case "attempt":
          if (e.attempt > 0) print(`attempt ${e.attempt}: output prefix ${e.outputPrefix}`);
          break;
        case "created":
          break;
        case "phase": {
          const text = `${e.phase}${e.message ? `  ${e.message}` : ""}`;
          if (live) setStatus(text, e.elapsedMs);
          else print(`[${seconds(e.elapsedMs)}] ${text}`);
          links(e);
          break;
        }
        case "info":
          print("  (within the phase; a cluster's console shows this only once the phase changes)");
          links(e);
          break;
        case "get-error":
          print(
            `GetTask failed (${e.code}: ${e.message}); ${e.failures}/${e.budget} of the failure budget${e.retryInMs ? `, retrying in ${seconds(e.retryInMs)}` : ""}`,
          );
          break;
        case "attempt-failed":
          print(
            `attempt ${e.attempt} ended ${e.phase} (${e.code}): ${e.message}${e.willRetry ? " — retrying with a new output prefix" : ""}`,
          );
          break;
        case "delete":
          print(e.ok ? `DeleteTask sent (${e.reason})` : `DeleteTask failed (${e.reason}): ${e.error ?? ""}`);
          break;
        case "warning":
          clearLine();
          err.write(`warning [${e.rule}]: ${e.message}\n`);
          drawStatus();
          break;
      }
    },
    note(text) {
      clearLine();
      err.write(`${text}\n`);
      drawStatus();
    },
    finish(r) {
      if (ticker) clearInterval(ticker);
      clearLine();
      status = "";
      if (r.succeeded) {
        out.write(
          `SUCCEEDED in ${seconds(r.durationMs)} (${r.attempts} attempt${r.attempts > 1 ? "s" : ""})\n`,
        );
        const entries = Object.entries(r.outputs);
        if (entries.length > 0) {
          out.write("outputs:\n");
          for (const [k, v] of entries) out.write(`  ${k}: ${formatValue(v)}\n`);
        }
      } else {
        out.write(`${r.phase}${r.code ? ` (${r.code})` : ""}: ${r.message}\n`);
      }
    },
  };
}
