/**
 * A stand-in for the API this agent calls, so this project runs and its tests pass before it is wired
 * to a real one. Replace it with your API's client (see "Call the real API here" in agent.ts).
 */

/** The calls the agent makes; your real client implements the same. */
export interface RatesClient {
  /** The rate from one currency to another, or `undefined` when the API does not know one of them. */
  rate(from: string, to: string, signal: AbortSignal): Promise<number | undefined>;
}

/** Euro-based reference rates; fixed, so results are reproducible. */
const PER_EURO: Readonly<Record<string, number>> = { EUR: 1, USD: 1.08, GBP: 0.85, JPY: 162.5, CHF: 0.95 };

/** Answers from a fixed table instead of calling out. */
export class StandInRatesService implements RatesClient {
  async rate(from: string, to: string, signal: AbortSignal): Promise<number | undefined> {
    signal.throwIfAborted();
    const a = PER_EURO[from];
    const b = PER_EURO[to];
    return a === undefined || b === undefined ? undefined : b / a;
  }
}
