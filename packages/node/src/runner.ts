/**
 * `Runner` for Node: the core runner with `ws`, pino and process signals filled in.
 *
 * @module
 */
import { Runner as CoreRunner, type Logger, type RunnerOptions, type StartOptions } from "@x/runner-core";
import { nodePlatform } from "./platform.ts";
import { handleSignals, type SignalOptions } from "./signals.ts";

/** Options of the Node runner: the core options, with the platform optional and signal handling added. */
export interface NodeRunnerOptions extends RunnerOptions {
	/**
	 * Turn SIGTERM/SIGINT into a drain (a second signal: immediate) once started, and remove the listeners after the
	 * shutdown. `false` leaves signals alone. @default true
	 */
	signals?: boolean | SignalOptions;
}

/** A runner on Node. `new Runner({...})`, `await runner.start()`. */
export class Runner extends CoreRunner {
	readonly #signals: boolean | SignalOptions;
	#removeSignals: (() => void) | undefined;

	/** Validates the options (throws `InvalidArgumentError` naming a bad one). */
	constructor(options: NodeRunnerOptions) {
		const logger: Logger | undefined = options.logger ?? options.platform?.logger;
		super({ ...options, platform: { ...nodePlatform(logger), ...options.platform } });
		this.#signals = options.signals ?? true;
	}

	/** Connects; installs the signal listeners unless `signals: false`. */
	override start(options: StartOptions = {}): Promise<void> {
		if (this.#signals !== false && !this.#removeSignals) {
			this.#removeSignals = handleSignals(this, this.#signals === true ? {} : this.#signals);
			void this.shutdownComplete().then(() => this.#removeSignals?.());
		}
		return super.start(options);
	}
}

/** Same as `new Runner(options)`. */
export function createRunner(options: NodeRunnerOptions): Runner {
	return new Runner(options);
}
