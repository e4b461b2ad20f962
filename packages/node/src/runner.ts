/**
 * `Runner` for Node: the core runner with `ws`, pino and process signals filled in.
 *
 * @module
 */
import { Runner as CoreRunner, type RunnerOptions } from "@x/runner-core";
import { nodePlatform } from "./platform.ts";

/** Options of the Node runner (the core's options; `platform` is filled in). */
export type NodeRunnerOptions = RunnerOptions;

/** A runner on Node. `new Runner({...})`, then `await runner.start()`. SIGTERM/SIGINT drain it unless `signals: false`. */
export class Runner extends CoreRunner {
	/** Validates the options (throws `InvalidArgumentError` naming a bad one); any platform part given wins. */
	constructor(options: NodeRunnerOptions) {
		super({
			...options,
			platform: { ...nodePlatform(options.logger ?? options.platform?.logger), ...options.platform },
		});
	}
}

/** Same as `new Runner(options)`. */
export function createRunner(options: NodeRunnerOptions): Runner {
	return new Runner(options);
}
