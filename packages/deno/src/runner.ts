/**
 * `Runner` for Deno: the core runner with Deno's WebSocket, signals and logger filled in.
 *
 * @module
 */
import { Runner as CoreRunner, type RunnerOptions } from "@x/runner-core";
import { denoPlatform } from "./platform.ts";

/** A runner on Deno. `new Runner({...})`, then `await runner.start()`. SIGTERM/SIGINT drain it unless `signals: false`. */
export class Runner extends CoreRunner {
	/** Validates the options (throws `InvalidArgumentError` naming a bad one); any platform part given wins. */
	constructor(options: RunnerOptions) {
		super({
			...options,
			platform: { ...denoPlatform(options.logger ?? options.platform?.logger), ...options.platform },
		});
	}
}

/** Same as `new Runner(options)`. */
export function createRunner(options: RunnerOptions): Runner {
	return new Runner(options);
}
