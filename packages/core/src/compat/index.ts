/**
 * `@x/runner-core/compat`: drop-in replacement for `@rivetkit/engine-runner@2.2.1`'s `Runner`.
 *
 * @module
 */
export type {
	ActorConfig,
	HibernatingWebSocketMetadata,
	JsonValue,
	KvListOptions,
	RunnerConfig,
} from "./config.ts";
export { idToStr, type ProtocolMetadata, Runner, RunnerShutdownError } from "./runner.ts";
