/**
 * A clock that moves only when told to, for deterministic tests of timeouts, backoff and deadlines.
 *
 * @module
 */
import type { Cancel, Clock } from "../platform.ts";

interface Timer {
	readonly id: number;
	readonly at: number;
	readonly fn: () => void;
}

/** A {@link Clock} driven by {@link ManualClock.advance}. */
export class ManualClock implements Clock {
	#now: number;
	#timers: Timer[] = [];
	#nextId = 0;

	/** Starts at `start` epoch ms. @default 1_700_000_000_000 */
	constructor(start = 1_700_000_000_000) {
		this.#now = start;
	}

	/** Current time. */
	now(): number {
		return this.#now;
	}

	/** Schedules `fn` at now + `ms`. */
	setTimeout(fn: () => void, ms: number): Cancel {
		const timer = { id: this.#nextId++, at: this.#now + Math.max(0, ms), fn };
		this.#timers.push(timer);
		return () => {
			this.#timers = this.#timers.filter((t) => t !== timer);
		};
	}

	/** Timers waiting to fire. */
	get pending(): number {
		return this.#timers.length;
	}

	/** Delays (from now) of the waiting timers, soonest first. */
	pendingDelays(): number[] {
		return this.#timers.map((t) => t.at - this.#now).sort((a, b) => a - b);
	}

	/**
	 * Moves time forward by `ms`, firing due timers in time order, and lets promise callbacks run between them, so
	 * async code scheduled by a timer settles before the next one fires.
	 */
	async advance(ms: number): Promise<void> {
		const target = this.#now + ms;
		for (;;) {
			await flushMicrotasks();
			const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
			if (!due) break;
			this.#timers = this.#timers.filter((t) => t !== due);
			this.#now = due.at;
			due.fn();
		}
		this.#now = target;
		await flushMicrotasks();
	}
}

/** Lets pending promise callbacks run (several turns, for chains). */
export async function flushMicrotasks(turns = 20): Promise<void> {
	for (let i = 0; i < turns; i++) await Promise.resolve();
}
