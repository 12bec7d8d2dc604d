import type { Clock } from "@flyte-agent/runtime/internal/core/clock.js";

export { realClock, createManualClock, type ManualClock } from "@flyte-agent/runtime/internal/core/clock.js";

/** Time as the executor sees it: the shared {@link Clock}. */
export type ExecutorClock = Clock;

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
    private readonly clock: Clock,
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
