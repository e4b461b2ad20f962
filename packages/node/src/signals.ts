/**
 * Process signals → shutdown: the first SIGTERM or SIGINT drains, a second one stops immediately.
 *
 * @module
 */
import type { Runner } from "@x/runner-core";

/** How a runner reacts to process signals. */
export interface SignalOptions {
	/** Signals that start a drain; a second one (of any of them) makes it immediate. @default ["SIGTERM", "SIGINT"] */
	signals?: NodeJS.Signals[];
	/** Exit the process after shutdown: `true` exits with 0, a number with that code. @default false */
	exit?: boolean | number;
	/** Drain deadline in ms. @default the runner's `drainDeadlineMs` */
	deadlineMs?: number;
}

/**
 * Installs signal listeners for `runner`. They are removed when the runner has shut down (whatever started it), or
 * by calling the returned function.
 */
export function handleSignals(runner: Runner, options: SignalOptions = {}): () => void {
	const signals = options.signals ?? ["SIGTERM", "SIGINT"];
	let count = 0;
	const onSignal = (signal: NodeJS.Signals): void => {
		count++;
		const mode = count === 1 ? "drain" : "immediate";
		process.stderr.write(
			`${signal} received: ${mode === "drain" ? "draining (send again to stop now)" : "stopping now"}\n`,
		);
		const done = runner.shutdown(
			count === 1
				? { mode, ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }) }
				: { mode },
		);
		void done.then(() => {
			remove();
			if (options.exit !== undefined && options.exit !== false)
				process.exit(options.exit === true ? 0 : options.exit);
		});
	};
	const remove = (): void => {
		for (const signal of signals) process.off(signal, onSignal);
	};
	for (const signal of signals) process.on(signal, onSignal);
	return remove;
}
