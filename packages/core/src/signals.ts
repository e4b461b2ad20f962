/**
 * Process signals → shutdown, independent of the runtime: the first signal drains, a second one stops immediately,
 * and the listeners are removed once the runner has shut down. Adapters supply the {@link SignalSource}.
 *
 * @module
 */

/** How a runtime delivers process signals. */
export interface SignalSource {
	/** Subscribes to a signal; returns the unsubscribe function. May throw for a signal the OS lacks. */
	subscribe(signal: string, listener: () => void): () => void;
	/** Ends the process. */
	exit(code: number): void;
	/** Writes a line for the operator (stderr). */
	notice(line: string): void;
	/** Signals used when none are configured. */
	readonly defaultSignals: readonly string[];
}

/** How a runner reacts to process signals (only where the platform has a {@link SignalSource}). */
export interface SignalOptions {
	/** Signals that start a drain; a second one makes it immediate. @default SIGTERM and SIGINT (SIGINT alone on Windows) */
	signals?: string[];
	/** Exit after the shutdown: `true` exits with 0, a number with that code. @default false */
	exit?: boolean | number;
	/** Drain deadline in ms. @default the runner's `drainDeadlineMs` */
	deadlineMs?: number;
}

/** The part of a runner that signals drive. */
export interface Shutdownable {
	shutdown(options: { mode: "drain" | "immediate"; deadlineMs?: number }): Promise<void>;
}

/** Installs the listeners; returns a function that removes them (also called after the shutdown). */
export function bindSignals(
	runner: Shutdownable,
	source: SignalSource,
	options: SignalOptions = {},
): () => void {
	const unsubscribers: Array<() => void> = [];
	let count = 0;
	let removed = false;
	const remove = (): void => {
		if (removed) return;
		removed = true;
		for (const unsubscribe of unsubscribers) unsubscribe();
	};
	const onSignal = (signal: string): void => {
		count++;
		const immediate = count > 1;
		source.notice(
			`${signal} received: ${immediate ? "stopping now" : "draining (send it again to stop now)"}`,
		);
		const done = runner.shutdown(
			immediate || options.deadlineMs === undefined
				? { mode: immediate ? "immediate" : "drain" }
				: { mode: "drain", deadlineMs: options.deadlineMs },
		);
		if (immediate) return;
		void done.then(() => {
			remove();
			if (options.exit !== undefined && options.exit !== false)
				source.exit(options.exit === true ? 0 : options.exit);
		});
	};
	for (const signal of options.signals ?? source.defaultSignals) {
		try {
			unsubscribers.push(source.subscribe(signal, () => onSignal(signal)));
		} catch {
			// This OS has no such signal (e.g. SIGTERM on Windows under Deno); the others still work.
		}
	}
	return remove;
}

/** The parts of a Node-style `process` object that {@link processSignalSource} uses. */
export interface ProcessLike {
	on(signal: string, listener: () => void): unknown;
	off(signal: string, listener: () => void): unknown;
	exit(code: number): unknown;
	readonly stderr: { write(text: string): unknown };
}

/** A {@link SignalSource} over a Node-style `process` (Node and Bun); SIGTERM and SIGINT by default. */
export function processSignalSource(proc: ProcessLike): SignalSource {
	return {
		subscribe(signal, listener) {
			proc.on(signal, listener);
			return () => void proc.off(signal, listener);
		},
		exit: (code) => void proc.exit(code),
		notice: (line) => void proc.stderr.write(`${line}\n`),
		defaultSignals: ["SIGTERM", "SIGINT"],
	};
}
