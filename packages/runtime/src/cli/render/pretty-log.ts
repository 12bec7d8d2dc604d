import { Writable } from "node:stream";
import { Chalk } from "chalk";

/** Options of {@link prettyLogStream}. */
export interface PrettyLogOptions {
  /** Where the readable lines go. */
  readonly out: { write(text: string): unknown };
  /** Colour the level. @default false */
  readonly color?: boolean;
  /** Put before every line (e.g. "agent "). @default "" */
  readonly prefix?: string;
}

const HIDDEN = new Set(["level", "time", "pid", "hostname", "msg", "err", "stack"]);

/**
 * A destination for the server's JSON log lines that prints them for a person: `12:00:01 INFO  msg
 * key=value`, the stack of an error on the lines below. Lines that are not JSON pass through.
 */
export function prettyLogStream(options: PrettyLogOptions): Writable {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const levelText: Record<string, string> = {
    trace: c.gray("TRACE"),
    debug: c.gray("DEBUG"),
    info: c.green("INFO "),
    warn: c.yellow("WARN "),
    error: c.red("ERROR"),
    fatal: c.red("FATAL"),
  };
  const prefix = options.prefix ?? "";
  let pending = "";
  const line = (text: string) => {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(text) as Record<string, unknown>;
    } catch {
      options.out.write(`${prefix}${text}\n`);
      return;
    }
    const time = typeof o.time === "string" ? o.time.slice(11, 19) : "";
    const level = levelText[String(o.level)] ?? String(o.level).toUpperCase();
    const fields = Object.entries(o)
      .filter(([k]) => !HIDDEN.has(k))
      .map(([k, v]) => `${c.dim(`${k}=`)}${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(" ");
    options.out.write(
      `${prefix}${c.dim(time)} ${level} ${typeof o.msg === "string" ? o.msg : JSON.stringify(o.msg ?? "")}${fields ? ` ${fields}` : ""}\n`,
    );
    const err = o.err as { stack?: string; message?: string } | undefined;
    const stack = err?.stack ?? (typeof o.stack === "string" ? o.stack : undefined);
    if (stack) options.out.write(`${stack.replace(/^/gm, `${prefix}    `)}\n`);
    else if (err?.message) options.out.write(`${prefix}    ${err.message}\n`);
  };
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const l of lines) if (l.trim()) line(l);
      done();
    },
    final(done) {
      if (pending.trim()) line(pending);
      done();
    },
  });
}
