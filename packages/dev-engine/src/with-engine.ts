import type { EngineHandle } from "./engine-handle.ts";
import { type StartEngineOptions, startEngine } from "./start-engine.ts";

/**
 * Starts an engine, runs `fn` with it and always stops it afterwards (also when `fn` throws).
 * @param options Same as `startEngine` (all defaults apply).
 */
export async function withEngine<T>(
	fn: (engine: EngineHandle) => Promise<T> | T,
	options: StartEngineOptions = {},
): Promise<T> {
	const engine = await startEngine(options);
	try {
		return await fn(engine);
	} finally {
		await engine.stop();
	}
}
