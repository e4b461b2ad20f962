import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type EngineHandle, startEngine } from "../src/index.ts";
import { isAlive, startFailure } from "./helpers.ts";

const engines: EngineHandle[] = [];
const dirs: string[] = [];
afterEach(async () => {
	await Promise.all(engines.splice(0).map((e) => e.stop()));
	await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function started(options: Parameters<typeof startEngine>[0] = {}): Promise<EngineHandle> {
	const engine = await startEngine(options);
	engines.push(engine);
	return engine;
}

describe("restart and kill", () => {
	it("restart() keeps ports, endpoint and data", async () => {
		const engine = await started();
		await engine.api.upsertRunnerConfig("pool");
		const actor = await engine.api.createActor({ name: "kept", key: "k", runnerNameSelector: "pool" });
		const { endpoint, ports, pid } = engine;

		await engine.restart();
		expect(engine.endpoint).toBe(endpoint);
		expect(engine.ports).toEqual(ports);
		expect(engine.pid).not.toBe(pid);
		expect(isAlive(pid)).toBe(false);
		expect(engine.running).toBe(true);
		expect((await engine.api.listActors({ name: "kept" })).actors.map((a) => a.actorId)).toEqual([
			actor.actorId,
		]);
	});

	it("kill() SIGKILLs the engine and leaves no process; restart() then reuses the storage", async () => {
		const engine = await started();
		await engine.api.upsertRunnerConfig("pool");
		const actor = await engine.api.createActor({ name: "survivor", runnerNameSelector: "pool" });
		const pid = engine.pid;

		await engine.kill();
		expect(() => process.kill(pid, 0)).toThrow();
		expect(engine.running).toBe(false);
		expect(existsSync(engine.dataDir)).toBe(true);

		await engine.restart();
		expect(isAlive(engine.pid)).toBe(true);
		expect((await engine.api.getActor(actor.actorId))?.name).toBe("survivor");
		await engine.api.createActor({ name: "survivor", runnerNameSelector: "pool" });
		expect((await engine.api.listActors({ name: "survivor" })).actors).toHaveLength(2);

		const dataDir = engine.dataDir;
		await engine.stop();
		expect(existsSync(dataDir)).toBe(false);
		await expect(engine.restart()).rejects.toMatchObject({ code: "NOT_RUNNING" });
	});

	it("keeps a given dataDir on stop so another engine can reopen it", async () => {
		const dataDir = join(await mkdtemp(join(tmpdir(), "dev-engine-test-")), "nested", "data");
		dirs.push(join(dataDir, "..", ".."));
		const first = await started({ dataDir });
		expect(first.dataDir).toBe(dataDir);
		await first.api.upsertRunnerConfig("pool");
		const actor = await first.api.createActor({ name: "persisted", runnerNameSelector: "pool" });

		// The folder is locked while an engine uses it.
		const locked = await startFailure({ dataDir });
		expect(locked.code).toBe("DATA_DIR_UNUSABLE");

		await first.stop();
		expect(existsSync(dataDir)).toBe(true);

		const second = await started({ dataDir });
		expect((await second.api.getActor(actor.actorId))?.name).toBe("persisted");
	});
});
