import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DevEngineError, EngineApiError, findFreePorts, withEngine } from "../src/index.ts";
import { isAlive, startFailure, waitFor } from "./helpers.ts";

const servers: Server[] = [];
const dirs: string[] = [];
afterEach(async () => {
	await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
	await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
	const dir = await mkdtemp(join(tmpdir(), "dev-engine-test-"));
	dirs.push(dir);
	return dir;
}

/** A fake engine binary: a shell script that records its pid in $FAKE_PID_FILE, then runs `body`. */
async function fakeBinary(body: string): Promise<{ binaryPath: string; pidFile: string }> {
	const dir = await tempDir();
	const binaryPath = join(dir, "fake-engine");
	await writeFile(binaryPath, `#!/bin/sh\necho $$ > "$FAKE_PID_FILE"\n${body}\n`);
	await chmod(binaryPath, 0o755);
	return { binaryPath, pidFile: join(dir, "pid") };
}

describe("bad options", () => {
	it("rejects a taken port with PORT_IN_USE naming the port", async () => {
		const server = createServer();
		await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
		servers.push(server);
		const port = (server.address() as { port: number }).port;
		const err = await startFailure({ guardPort: port });
		expect(err).toBeInstanceOf(DevEngineError);
		expect(err.code).toBe("PORT_IN_USE");
		expect(err.message).toContain(String(port));
	});

	it("rejects the same port twice with INVALID_OPTIONS", async () => {
		const [port] = await findFreePorts(1);
		const err = await startFailure({ guardPort: port, metricsPort: port });
		expect(err.code).toBe("INVALID_OPTIONS");
	});

	it("rejects an unusable dataDir with DATA_DIR_UNUSABLE naming the folder", async () => {
		const file = join(await tempDir(), "a-file");
		await writeFile(file, "not a folder");
		const dataDir = join(file, "data");
		const err = await startFailure({ dataDir });
		expect(err.code).toBe("DATA_DIR_UNUSABLE");
		expect(err.message).toContain(dataDir);
	});

	it("rejects a missing binary with BINARY_NOT_FOUND", async () => {
		const err = await startFailure({ binaryPath: "/nonexistent" });
		expect(err.code).toBe("BINARY_NOT_FOUND");
		expect(err.message).toContain("/nonexistent");
	});
});

describe("engine failures", () => {
	it("reports EXITED_EARLY with the tail of the engine log", async () => {
		const fake = await fakeBinary('echo "fatal: something broke" >&2\nexit 3');
		const err = await startFailure({ binaryPath: fake.binaryPath, env: { FAKE_PID_FILE: fake.pidFile } });
		expect(err.code).toBe("EXITED_EARLY");
		expect(err.message).toContain("code 3");
		expect(err.message).toContain("fatal: something broke");
		expect((err as DevEngineError).logTail).toContain("fatal: something broke");
	});

	it("reports START_TIMEOUT and kills the process", async () => {
		const fake = await fakeBinary('echo "waiting forever"\nexec sleep 600');
		const err = await startFailure({
			binaryPath: fake.binaryPath,
			env: { FAKE_PID_FILE: fake.pidFile },
			startTimeoutMs: 800,
		});
		expect(err.code).toBe("START_TIMEOUT");
		expect(err.message).toContain("waiting forever");
		const pid = Number(await readFile(fake.pidFile, "utf8"));
		expect(await waitFor(() => !isAlive(pid), 2000)).toBe(true);
	});

	it("turns the engine's own 'address in use' crash into PORT_IN_USE", async () => {
		const fake = await fakeBinary(
			'echo \'level=error message="service crashed" service=guard err="Address in use (os error 98)"\'\nexec sleep 600',
		);
		const [guardPort] = await findFreePorts(1);
		const err = await startFailure({
			binaryPath: fake.binaryPath,
			env: { FAKE_PID_FILE: fake.pidFile },
			guardPort,
		});
		expect(err.code).toBe("PORT_IN_USE");
		expect(err.message).toContain(`guard port ${guardPort}`);
		const pid = Number(await readFile(fake.pidFile, "utf8"));
		expect(await waitFor(() => !isAlive(pid), 2000)).toBe(true);
	});
});

describe("API errors", () => {
	it("throws EngineApiError with the engine's status, group and code", async () => {
		await withEngine(async (engine) => {
			const failure = engine.api.createActor({ name: "a", runnerNameSelector: "no-such-pool" });
			const err = await failure.catch((e: unknown) => e);
			expect(err).toBeInstanceOf(EngineApiError);
			expect(err).toBeInstanceOf(DevEngineError);
			expect(err).toMatchObject({ status: 400, group: "actor", code: "no_runner_config_configured" });
			expect((err as EngineApiError).body).toMatchObject({ code: "no_runner_config_configured" });
			expect((err as Error).message).toContain("no-such-pool");

			const missingName = await engine.api.listActors().catch((e: unknown) => e);
			expect(missingName).toMatchObject({ status: 400, group: "validation", code: "invalid_input" });
		});
	});
});
