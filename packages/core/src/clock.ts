import type { Cancel, Clock } from "./platform.ts";

/** Timer functions every runtime has as globals; typed here so the core needs no runtime-specific types. */
interface GlobalTimers {
	setTimeout(fn: () => void, ms: number): unknown;
	clearTimeout(handle: unknown): void;
}

/**
 * The real clock, backed by the global `setTimeout`. Timers are not `unref`'d: a started runner keeps its process
 * alive (also while it waits to reconnect) until `shutdown()` has cancelled every timer it made.
 */
export const systemClock: Clock = {
	now: (): number => Date.now(),
	setTimeout(fn: () => void, ms: number): Cancel {
		const timers = globalThis as unknown as GlobalTimers;
		const handle = timers.setTimeout(fn, Math.max(0, ms));
		return () => timers.clearTimeout(handle);
	},
};
