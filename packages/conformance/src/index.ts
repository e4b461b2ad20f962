/**
 * `@x/conformance` (private): one suite of runner scenarios, written once and run by each runtime's own test runner
 * (vitest on Node, `bun test`, `deno test`) against a real engine from `@x/dev-engine`.
 *
 * ```ts
 * import { defineConformanceSuite } from "@x/conformance";
 * defineConformanceSuite((name, fn, timeoutMs) => it(name, fn, timeoutMs), { runtime: "node", Runner, ... });
 * ```
 *
 * @module
 */
export { AssertionError } from "./assert.ts";
export type {
	ClientCloseEvent,
	ClientMessageEvent,
	CompatRunnerLike,
	ConformanceEnv,
	ProcessExit,
	RegisterScenario,
	RunnerLike,
	RunnerProcess,
	RuntimeName,
	WebSocketClientConstructor,
	WebSocketClientLike,
} from "./env.ts";
export type { Scenario } from "./scenarios/types.ts";
export { defineConformanceSuite, SCENARIOS } from "./suite.ts";
