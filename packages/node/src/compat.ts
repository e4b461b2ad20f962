/**
 * `@x/runner-node/compat`: drop-in `Runner` for code written against `@rivetkit/engine-runner@2.2.1`, on the
 * Node platform.
 *
 * @module
 */
import { Runner as CompatRunner, type RunnerConfig } from "@x/runner-core/compat";
import { nodePlatform } from "./platform.ts";

export type {
	ActorConfig,
	HibernatingWebSocketMetadata,
	KvListOptions,
	RunnerConfig,
} from "@x/runner-core/compat";
export { idToStr, RunnerShutdownError } from "@x/runner-core/compat";

/** The reference runner's API, on Node. */
export class Runner extends CompatRunner {
	/** Takes the reference's `RunnerConfig` unchanged. */
	constructor(config: RunnerConfig) {
		super(config, nodePlatform(config.logger));
	}
}
