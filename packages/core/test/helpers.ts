import type { RunnerOptions } from "../src/index.ts";
import { Runner } from "../src/index.ts";
import { FakeEngine, ManualClock } from "../src/testing/index.ts";

export interface Harness {
	runner: Runner;
	engine: FakeEngine;
	clock: ManualClock;
	errors: Array<{ code: string; stage: string; message: string }>;
}

/** A runner wired to a fake engine and a manual clock. */
export function harness(overrides: Partial<RunnerOptions> = {}, engine = new FakeEngine()): Harness {
	const clock = new ManualClock();
	const errors: Harness["errors"] = [];
	const runner = new Runner({
		endpoint: "http://engine.test",
		runnerName: "pool",
		totalSlots: 10,
		onActorStart: () => {},
		onError: (error, context) =>
			errors.push({ code: error.code, stage: context.stage, message: error.message }),
		...overrides,
		platform: { webSocket: engine.webSocket, clock, random: () => 0, ...overrides.platform },
	});
	return { runner, engine, clock, errors };
}
