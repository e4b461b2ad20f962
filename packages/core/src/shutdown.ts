/**
 * The shutdown sequence, in one place:
 *
 *   drain:     ToServerStopping → engine stops each actor → wait (≤ deadline) → stop leftovers locally
 *   immediate:                                                               stop every actor locally
 *   then:      close tunnel → fail waiting KV → close socket → onShutdown
 *
 * `onActorStop` runs exactly once per actor on every path, and `onShutdown` runs last.
 *
 * @module
 */
import type { Actors } from "./actors.ts";
import type { Logger } from "./platform.ts";
import type { ShutdownOptions } from "./types.ts";

/** What the shutdown sequence needs from the runner. */
export interface ShutdownHost {
	readonly actors: Actors;
	readonly log: Logger;
	readonly defaultDeadlineMs: number;
	/** Whether the engine socket is ready, so a drain can be announced. */
	connected(): boolean;
	/** Sends `ToServerStopping`; false when it could not be written. */
	announceStopping(): boolean;
	/** Reports drain progress (remaining actors) about once a second. */
	progress(remaining: number, elapsedMs: number): void;
	/** Milliseconds since the epoch. */
	now(): number;
	/** Settles when an immediate shutdown was asked for while draining. */
	readonly escalated: Promise<void>;
	/** Closes the tunnel, KV and socket. */
	closeTransport(): Promise<void>;
	/** The user's `onShutdown`. */
	finished(): Promise<void>;
}

/** Runs the whole sequence once. */
export async function runShutdown(host: ShutdownHost, options: ShutdownOptions): Promise<void> {
	const mode = options.mode ?? "drain";
	const deadlineMs = options.deadlineMs ?? host.defaultDeadlineMs;
	const started = host.now();
	host.log.info({ mode, deadlineMs, actors: host.actors.size }, "runner shutting down");
	if (mode === "drain" && host.connected() && host.announceStopping()) {
		let emptied = false;
		let escalated = false;
		void host.escalated.then(() => {
			escalated = true;
		});
		let lost = false;
		while (!emptied && !escalated) {
			const left = deadlineMs - (host.now() - started);
			if (left <= 0) break;
			// Without the engine connection nobody will stop the actors for us: stop them here instead of waiting.
			lost = !host.connected();
			if (lost) break;
			emptied = await Promise.race([
				host.actors.waitForEmpty(Math.min(left, 1000)),
				host.escalated.then(() => false),
			]);
			if (!emptied && !escalated) host.progress(host.actors.size, host.now() - started);
		}
		if (escalated)
			host.log.warn({ remaining: host.actors.size }, "immediate shutdown requested during the drain");
		else if (lost)
			host.log.warn(
				{ remaining: host.actors.size },
				"engine connection lost during the drain; stopping the remaining actors locally",
			);
		else if (!emptied)
			host.log.warn(
				{ remaining: host.actors.size, deadlineMs },
				"drain deadline passed; stopping the remaining actors locally",
			);
	}
	await host.actors.stopAll("shutdown");
	await host.closeTransport();
	host.log.info({ elapsedMs: host.now() - started }, "runner shut down");
	await host.finished();
}
