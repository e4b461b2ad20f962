/**
 * Reconnect policy: exponential backoff with jitter.
 *
 * @module
 */

/** How the runner waits between reconnect attempts. */
export interface ReconnectPolicy {
	/** Delay before the first retry. @default 1000 */
	initialDelayMs?: number;
	/** Upper bound of the delay before jitter. @default 30000 */
	maxDelayMs?: number;
	/** Growth factor per failed attempt. @default 2 */
	multiplier?: number;
	/** Extra random delay as a fraction of the delay: 0.25 adds 0–25 %. @default 0.25 */
	jitter?: number;
}

/** A fully resolved {@link ReconnectPolicy}. */
export type ResolvedReconnectPolicy = Required<ReconnectPolicy>;

/** The defaults: 1 s doubling to 30 s, plus 0–25 % jitter. */
export const DEFAULT_RECONNECT: ResolvedReconnectPolicy = {
	initialDelayMs: 1000,
	maxDelayMs: 30_000,
	multiplier: 2,
	jitter: 0.25,
};

/**
 * Delay before retry number `attempt` (0-based): `min(initial × multiplier^attempt, max) × (1 + jitter × random)`,
 * floored to whole milliseconds.
 */
export function backoffDelay(policy: ResolvedReconnectPolicy, attempt: number, random: number): number {
	const base = Math.min(policy.initialDelayMs * policy.multiplier ** attempt, policy.maxDelayMs);
	return Math.floor(base * (1 + policy.jitter * random));
}

/**
 * Counts failed attempts. `reset()` is called only after the engine accepted the runner (`ToClientInit`), never
 * merely because a socket opened, so an engine that accepts the upgrade and then closes does not cause a retry storm.
 */
export class Backoff {
	readonly #policy: ResolvedReconnectPolicy;
	readonly #random: () => number;
	#attempt = 0;

	/** Creates a counter for `policy`. */
	constructor(policy: ResolvedReconnectPolicy, random: () => number) {
		this.#policy = policy;
		this.#random = random;
	}

	/** Number of consecutive failed attempts so far. */
	get attempt(): number {
		return this.#attempt;
	}

	/** The delay for the next retry; counts the attempt. */
	next(): number {
		const delay = backoffDelay(this.#policy, this.#attempt, this.#random());
		this.#attempt++;
		return delay;
	}

	/** Back to the first delay. */
	reset(): void {
		this.#attempt = 0;
	}
}
