/**
 * The shape of a scenario.
 *
 * @module
 */
import type { ScenarioContext } from "../context.ts";

/** One conformance scenario: a name, a time budget, and the body. */
export interface Scenario {
	/** Shown by the test runner (the suite prefixes the runtime). */
	readonly name: string;
	/** Time budget of the body; cleanup gets extra time on top. */
	readonly timeoutMs: number;
	/** The body; everything it starts is registered on `ctx.scope` for cleanup. */
	run(ctx: ScenarioContext): Promise<void>;
}
