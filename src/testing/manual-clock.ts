/**
 * A clock that moves only when told to. It fits both the agents and stand-ins that take a
 * `now()` function and the executor's `clock` option: the executor's waits between polls call
 * `sleep`, which moves the clock forward and returns at once, so one clock drives both sides.
 */
export interface ManualClock {
  /** The current time in epoch milliseconds. */
  readonly now: () => number;
  /** Moves the clock forward by `ms` (negative values are refused). */
  advance(ms: number): void;
  /** Sets the clock to an absolute time. */
  set(epochMs: number): void;
  /** Moves the clock forward by `ms` and resolves without waiting (the executor's wait between polls). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * A manual clock starting at `startMs`, so a test can step a job through its phases without waiting.
 * `now` is a bound function: pass `clock.now` where a `() => number` is expected.
 * @default startMs 1_700_000_000_000 (a fixed instant, so tests are reproducible)
 */
export function createManualClock(startMs = 1_700_000_000_000): ManualClock {
  let current = startMs;
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
    async sleep(ms: number) {
      advance(ms);
      // Yield once so a loop that only sleeps still lets I/O callbacks run.
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
}
