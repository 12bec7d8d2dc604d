/**
 * Time as the executor sees it. Polling waits on timers (never a busy loop), and tests pass a clock
 * whose `sleep` returns at once so that nothing waits on real polling.
 */
export interface ExecutorClock {
  /** Milliseconds since some fixed point. */
  now(): number;
  /** Resolves after `ms`, or as soon as `signal` aborts (it never rejects). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** The wall clock with `setTimeout` timers. */
export const realClock: ExecutorClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    }),
};

/** A clock whose sleeps return at once and move its time forward; for tests. */
export function createManualClock(start = 0): ExecutorClock & { readonly slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
      await Promise.resolve();
    },
  };
}

/**
 * FlytePropeller's read rate limiter (a token bucket of `burst` tokens refilled at `qps`), shared by
 * every GetTask of one executor.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: ExecutorClock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Waits for a token. */
  async take(signal: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
      this.last = now;
      if (this.tokens >= 1 || signal.aborted) {
        this.tokens -= 1;
        return;
      }
      await this.clock.sleep(Math.ceil(((1 - this.tokens) / this.qps) * 1000), signal);
    }
  }
}
