/**
 * `@x/runner-deno/compat`: drop-in `Runner` for code written against `@rivetkit/engine-runner@2.2.1`, on Deno.
 *
 * @module
 */
import { Runner as CompatRunner, type RunnerConfig } from "@x/runner-core/compat";
import { denoPlatform } from "./src/platform.ts";

export type {
	ActorConfig,
	HibernatingWebSocketMetadata,
	KvListOptions,
	RunnerConfig,
} from "@x/runner-core/compat";
export { idToStr, RunnerShutdownError } from "@x/runner-core/compat";

/** The reference runner's API, on Deno. */
export class Runner extends CompatRunner {
	/** Takes the reference's `RunnerConfig` unchanged. */
	constructor(config: RunnerConfig) {
		super(config, denoPlatform(config.logger));
	}
}
