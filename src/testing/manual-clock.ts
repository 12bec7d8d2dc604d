/** A clock that moves only when told to, for stand-ins and agents that take a `now()` function. */
export interface ManualClock {
  /** The current time in epoch milliseconds. */
  readonly now: () => number;
  /** Moves the clock forward by `ms` (negative values are refused). */
  advance(ms: number): void;
  /** Sets the clock to an absolute time. */
  set(epochMs: number): void;
}

/**
 * A manual clock starting at `startMs`, so a test can step a job through its phases without waiting.
 * `now` is a bound function: pass `clock.now` where a `() => number` is expected.
 * @default startMs 1_700_000_000_000 (a fixed instant, so tests are reproducible)
 */
export function createManualClock(startMs = 1_700_000_000_000): ManualClock {
  let current = startMs;
  return {
    now: () => current,
    advance(ms: number) {
      if (!(ms >= 0)) throw new RangeError(`a clock only moves forward; advance(${ms}) refused`);
      current += ms;
    },
    set(epochMs: number) {
      current = epochMs;
    },
  };
}
