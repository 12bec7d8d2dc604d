/**
 * Time as the executor, conformance and test stand-ins see it. Waits go through `sleep`, so tests
 * pass a {@link ManualClock} whose sleeps move time forward and return at once: nothing waits on
 * the wall clock.
 */
export interface Clock {
  /** Milliseconds since some fixed point (epoch milliseconds for the clocks here). */
  now(): number;
  /** Resolves after `ms`, or as soon as `signal` aborts (it never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The wall clock with `setTimeout` timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
    }),
};

/** A clock that moves only when told to (or when something sleeps on it). */
export interface ManualClock extends Clock {
  /** The current time in epoch milliseconds (a bound function: pass `clock.now` as `() => number`). */
  readonly now: () => number;
  /** Moves the clock forward by `ms` (negative values are refused). */
  advance(ms: number): void;
  /** Sets the clock to an absolute time. */
  set(epochMs: number): void;
  /** Moves the clock forward by `ms` and resolves without waiting. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Every `sleep` so far, in order (ms). */
  readonly slept: readonly number[];
}

/**
 * A manual clock starting at `startMs`. It fits both agents and stand-ins that take a `now()`
 * function and the executor's `clock` option: the executor's waits call `sleep`, which moves the
 * clock forward and returns at once, so one clock drives both sides.
 * @default startMs 1_700_000_000_000 (a fixed instant, so tests are reproducible)
 */
export function createManualClock(startMs = 1_700_000_000_000): ManualClock {
  let current = startMs;
  const slept: number[] = [];
  const advance = (ms: number) => {
    if (!(ms >= 0)) throw new RangeError(`a clock only moves forward; advance(${ms}) refused`);
    current += ms;
  };
  return {
    now: () => current,
    advance,
    set(epochMs: number) {
      current = epochMs;
    },
    slept,
    async sleep(ms: number) {
      slept.push(ms);
      advance(ms);
      // Yield once so a loop that only sleeps still lets I/O callbacks run.
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
}
