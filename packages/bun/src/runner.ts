/**
 * `Runner` for Bun: the core runner with Bun's WebSocket, pino and process signals filled in.
 *
 * @module
 */
import { Runner as CoreRunner, type RunnerOptions } from "@x/runner-core";
import { bunPlatform } from "./platform.ts";

/** A runner on Bun. `new Runner({...})`, then `await runner.start()`. SIGTERM/SIGINT drain it unless `signals: false`. */
export class Runner extends CoreRunner {
	/** Validates the options (throws `InvalidArgumentError` naming a bad one); any platform part given wins. */
	constructor(options: RunnerOptions) {
		super({
			...options,
			platform: { ...bunPlatform(options.logger ?? options.platform?.logger), ...options.platform },
		});
	}
}

/** Same as `new Runner(options)`. */
export function createRunner(options: RunnerOptions): Runner {
	return new Runner(options);
}
