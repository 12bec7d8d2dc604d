import { Chalk } from "chalk";
import type { ExecutionEvent, ExecutionResult } from "../../executor/index.js";

/** Where the renderer writes; `isTTY` picks the live status line, `columns` bounds it. */
export interface RenderTarget {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Options of {@link createRunRenderer}. */
export interface RunRendererOptions {
  /** One JSON object per event and a final result on `out`. @default false */
  readonly json?: boolean;
  readonly out: RenderTarget;
  /** Warnings and notes for people. */
  readonly err: RenderTarget;
  /** Colour on a terminal. @default `out.isTTY` unless NO_COLOR is set */
  readonly color?: boolean;
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

/** How the agent server was chosen, in plain words (the executor's `via`). */
function chosenBy(deployment: string, via: string): string {
  if (via === "default") return deployment === "endpoint" ? "" : ` (the default agent, ${deployment})`;
  if (via === "discovery")
    return deployment === "endpoint" ? "" : ` (${deployment}, which lists the task type)`;
  return ` (${deployment}, routed by ${via} in the config)`;
}

/** Cuts `text` to `width` terminal cells (one per code point; the status line is plain text). */
function fit(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, Math.max(width - 1, 0)).join("")}…`;
}

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
  const c = new Chalk({
    level: (options.color ?? (live && !process.env.NO_COLOR)) ? 1 : 0,
  });
  const phaseColour = (phase: string) =>
    phase === "SUCCEEDED"
      ? c.green(phase)
      : /FAILED|ABORTED|TIMED_OUT/.test(phase)
        ? c.red(phase)
        : phase === "RUNNING"
          ? c.cyan(phase)
          : c.yellow(phase);
  let status = "";
  let statusPlain = "";
  let statusPhase = "";
  let phaseStarted = 0;
  let lastElapsed = 0;
  let ticker: NodeJS.Timeout | undefined;
  const clearLine = () => {
    if (live && status) out.write("\r\x1b[2K");
  };
  const drawStatus = () => {
    if (!live || !status) return;
    // Never wider than the terminal: a wrapped line cannot be cleared, and leaves stale copies.
    const elapsed = ` ${seconds(lastElapsed + (Date.now() - phaseStarted))}`;
    const width = Math.max((out.columns ?? 80) - elapsed.length - 1, 10);
    const shown = fit(statusPlain, width);
    out.write(`\r\x1b[2K${shown === statusPlain ? status : shown}${c.dim(elapsed)}`);
  };
  const print = (text: string) => {
    clearLine();
    out.write(`${text}\n`);
    drawStatus();
  };
  const setStatus = (text: string, plain: string, elapsedMs: number) => {
    status = text;
    statusPlain = plain;
    lastElapsed = elapsedMs;
    phaseStarted = Date.now();
    if (live && !ticker) {
      ticker = setInterval(drawStatus, 200);
      ticker.unref();
    }
    drawStatus();
  };
  // Log links and custom info are printed when they first appear or change, not on every poll.
  const shownLinks = new Set<string>();
  let shownInfo = "";
  const links = (e: { logLinks: readonly { name: string; uri: string }[]; customInfo?: unknown }) => {
    for (const l of e.logLinks) {
      const key = `${l.name}\n${l.uri}`;
      if (shownLinks.has(key)) continue;
      shownLinks.add(key);
      print(`  log: ${l.name} ${c.underline(l.uri)}`);
    }
    if (e.customInfo && Object.keys(e.customInfo).length > 0) {
      const info = JSON.stringify(e.customInfo);
      if (info !== shownInfo) print(`  info: ${info}`);
      shownInfo = info;
    }
  };
  return {
    onEvent(e) {
      switch (e.type) {
        case "started":
          print(
            `running ${c.bold(e.task)} (task type ${e.taskType}${e.taskTypeVersion ? ` v${e.taskTypeVersion}` : ""}, ${e.sync ? "sync" : "async"}) on ${e.endpoint}${chosenBy(e.deployment, e.via)}`,
          );
          break;
        case "attempt":
          if (e.attempt > 0) print(`attempt ${e.attempt}: output prefix ${e.outputPrefix}`);
          break;
        case "created":
          break;
        case "phase": {
          const message = e.message ? `  ${e.message}` : "";
          if (live) {
            // The phase that ends stays on screen as history; the new one becomes the live line.
            if (statusPhase && statusPhase !== e.phase) {
              const history = `${c.dim("✓")} ${phaseColour(statusPhase)} ${c.dim(seconds(e.elapsedMs))}`;
              clearLine();
              status = "";
              out.write(`${history}\n`);
            }
            statusPhase = e.phase;
            setStatus(`${phaseColour(e.phase)}${message}`, `${e.phase}${message}`, e.elapsedMs);
          } else print(`[${seconds(e.elapsedMs)}] ${e.phase}${message}`);
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
          `${phaseColour("SUCCEEDED")} in ${seconds(r.durationMs)} (${r.attempts} attempt${r.attempts > 1 ? "s" : ""})\n`,
        );
        const entries = Object.entries(r.outputs);
        if (entries.length > 0) {
          out.write("outputs:\n");
          for (const [k, v] of entries) out.write(`  ${k}: ${formatValue(v)}\n`);
        }
      } else {
        out.write(`${phaseColour(r.phase)}${r.code ? ` (${r.code})` : ""}: ${r.message}\n`);
      }
    },
  };
}
