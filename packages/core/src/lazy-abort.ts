/**
 * An abort controller that is only made when someone reads its signal. Most requests and actors finish without
 * anyone listening for an abort, and an `AbortController` per request is a measurable share of the runner's CPU.
 *
 * @module
 */

/** Aborts like an `AbortController`; the real controller exists only once {@link LazyAbort.signal} is read. */
export class LazyAbort {
	#controller: AbortController | undefined;
	#aborted = false;
	#reason: unknown;

	/** The signal; made on first read, already aborted (with the same reason) if {@link abort} ran before. */
	get signal(): AbortSignal {
		if (!this.#controller) {
			this.#controller = new AbortController();
			if (this.#aborted) this.#controller.abort(this.#reason);
		}
		return this.#controller.signal;
	}

	/** Whether {@link abort} has run. */
	get aborted(): boolean {
		return this.#aborted;
	}

	/** Aborts once; later calls do nothing. */
	abort(reason: unknown): void {
		if (this.#aborted) return;
		this.#aborted = true;
		this.#reason = reason;
		this.#controller?.abort(reason);
	}
}
