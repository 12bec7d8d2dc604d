import { describe, expect, it } from "vitest";
import { TaskExecution_Phase } from "../gen/flyteidl/core/execution.js";
import { TaskExecutionPhase, convertToFlytePhase, isTerminalPhase, phaseName } from "./phase.js";

describe("phases", () => {
  it("use the protobuf numbers", () => {
    for (const [name, value] of Object.entries(TaskExecutionPhase)) {
      expect(TaskExecution_Phase[name as keyof typeof TaskExecution_Phase]).toBe(value);
    }
  });

  it("treat RETRYABLE_FAILED as terminal, unlike flytekit", () => {
    expect(isTerminalPhase(TaskExecutionPhase.RETRYABLE_FAILED)).toBe(true);
    expect(isTerminalPhase(TaskExecutionPhase.SUCCEEDED)).toBe(true);
    expect(isTerminalPhase(TaskExecutionPhase.FAILED)).toBe(true);
    expect(isTerminalPhase(TaskExecutionPhase.ABORTED)).toBe(true);
    expect(isTerminalPhase(TaskExecutionPhase.RUNNING)).toBe(false);
    expect(isTerminalPhase(TaskExecutionPhase.UNDEFINED)).toBe(false);
  });

  it("map external state strings as flytekit does, ignoring case", () => {
    const table: [string, number][] = [
      ["FAILED", 5],
      ["timeout", 5],
      ["TimedOut", 5],
      ["canceled", 5],
      ["CANCELLED", 5],
      ["skipped", 5],
      ["internal_error", 8],
      ["DONE", 3],
      ["succeeded", 3],
      ["success", 3],
      ["Completed", 3],
      ["running", 2],
      ["terminating", 2],
      ["PENDING", 6],
    ];
    for (const [state, phase] of table) expect(convertToFlytePhase(state), state).toBe(phase);
    expect(() => convertToFlytePhase("exploded")).toThrow("Unrecognized state: exploded");
  });

  it("name phases for people", () => {
    expect(phaseName(8)).toBe("RETRYABLE_FAILED");
    expect(phaseName(42)).toBe("UNKNOWN(42)");
  });
});
