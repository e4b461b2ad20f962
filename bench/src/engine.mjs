/**
 * The one engine every runner is measured against: the real Rivet Engine started by `@x/dev-engine` (loopback,
 * temporary storage, telemetry off, watched so it cannot outlive the bench), with one bench-specific setting merged
 * in through a second `--config` file.
 *
 * That setting is `runtime.worker_cpu_max`. The engine's workflow worker sheds load when the *machine's* CPU is busy:
 * on a 2-core machine running the engine, a runner under test and the load generator, it stops pulling workflows and
 * actor creation stalls for 30 s at a time (`pegboard_actor_create timed out`). The bench raises the threshold so the
 * worker always pulls; nothing on the runner side is changed by it.
 *
 * The engine runs as `rivet-engine-b` (a symlink): `pgrep rivet-engine` still finds it, but a concurrent `npm test`
 * on the same machine, which SIGKILLs every process named exactly `rivet-engine` that appeared during its run, leaves
 * the bench's engine alone.
 *
 * @module
 */
import { chmod, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEngine } from "@x/dev-engine";

/** Engine settings the bench merges over the dev engine's config. */
export const ENGINE_OVERRIDES = { runtime: { worker_cpu_max: 10_000 } };

/**
 * Starts the engine. Resolves with the dev engine's handle plus the engine version; `stop()` also removes the
 * wrapper folder.
 * @returns {Promise<import("@x/dev-engine").EngineHandle & { version: string, binary: string }>}
 */
export async function startBenchEngine() {
	const require = createRequire(import.meta.url);
	const binary = require("@rivetkit/engine-cli").getEnginePath();
	const dir = await mkdtemp(join(tmpdir(), "x-bench-engine-"));
	const overrides = join(dir, "overrides.json");
	const wrapper = join(dir, "start-engine.sh");
	const named = join(dir, "rivet-engine-b");
	await writeFile(overrides, `${JSON.stringify(ENGINE_OVERRIDES)}\n`);
	await symlink(binary, named);
	// `exec` keeps the pid, so the dev engine's watchdog still owns the real process.
	await writeFile(wrapper, `#!/bin/sh\nexec ${shellQuote(named)} --config ${shellQuote(overrides)} "$@"\n`);
	await chmod(wrapper, 0o755);
	let engine;
	try {
		engine = await startEngine({ binaryPath: wrapper, logLevel: "warn" });
	} catch (error) {
		await rm(dir, { recursive: true, force: true });
		throw error;
	}
	const { version } = await engine.api.health();
	const stop = engine.stop.bind(engine);
	return Object.assign(engine, {
		version,
		binary,
		async stop() {
			try {
				await stop();
			} finally {
				await rm(dir, { recursive: true, force: true });
			}
		},
	});
}

function shellQuote(text) {
	return `'${text.replaceAll("'", `'\\''`)}'`;
}
