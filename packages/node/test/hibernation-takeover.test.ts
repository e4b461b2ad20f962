/**
 * A hibernatable socket survives the death of its runner PROCESS: the runner is SIGKILLed, the client keeps sending
 * (the gateway buffers), a fresh runner process on the same pool takes the actor over once the engine declares the
 * old runner lost, and every message is applied exactly once, in order, with a reply for each.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { EngineHandle } from "@x/dev-engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { utf8Encode } from "../src/index.ts";
import {
	createActorPatiently,
	patientApi,
	readU32,
	startTestEngine,
	TestClient,
	uniquePool,
	waitFor,
} from "./fixtures/tunnel-shared/helpers.ts";

const RUNNER_SCRIPT = fileURLToPath(new URL("./fixtures/tunnel-takeover/runner.mjs", import.meta.url));

let engine: EngineHandle;
const children: RunnerProcess[] = [];

beforeAll(async () => {
	engine = await startTestEngine();
});
afterAll(async () => {
	for (const child of children) child.kill();
	await Promise.all(children.map((child) => child.exited));
	await engine?.stop();
});

/** One line the runner process reported. */
interface Report {
	pid: number;
	at: number;
	event: string;
	[field: string]: unknown;
}

/** A runner child process and what it reported. */
class RunnerProcess {
	readonly reports: Report[] = [];
	readonly stderr: string[] = [];
	readonly child: ChildProcessWithoutNullStreams;
	readonly exited: Promise<void>;

	constructor(pool: string) {
		this.child = spawn(process.execPath, [RUNNER_SCRIPT], {
			env: { ...process.env, RIVET_ENDPOINT: engine.endpoint, POOL: pool },
			stdio: ["pipe", "pipe", "pipe"],
		});
		children.push(this);
		let buffered = "";
		this.child.stdout.on("data", (chunk: Buffer) => {
			buffered += chunk.toString("utf8");
			for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
				const line = buffered.slice(0, nl);
				buffered = buffered.slice(nl + 1);
				if (line.trim()) this.reports.push(JSON.parse(line) as Report);
			}
		});
		this.child.stderr.on("data", (chunk: Buffer) => this.stderr.push(chunk.toString("utf8")));
		this.exited = new Promise((resolve) => {
			if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
			else this.child.once("exit", () => resolve());
		});
	}

	/** Reports of one kind. */
	events(kind: string): Report[] {
		return this.reports.filter((r) => r.event === kind);
	}

	/** SIGKILL (no-op once exited). */
	kill(): void {
		if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
	}
}

describe("hibernating socket across a runner process kill", () => {
	it("is taken over by a new runner process: no close, every message applied once, in order, each answered", async () => {
		const pool = uniquePool("hws-takeover");
		const api = patientApi(engine);
		await api.upsertRunnerConfig(pool);
		const first = new RunnerProcess(pool);
		await waitFor(() => first.events("connected").length > 0, "the first runner to connect", 60_000);
		const actorId = await createActorPatiently(engine, {
			name: "takeover",
			key: pool,
			runnerNameSelector: pool,
			crashPolicy: "restart",
		});
		await waitFor(() => first.events("start").length > 0, "the actor to start on the first runner", 90_000);

		const client = new TestClient(engine.api.gatewayWebSocketUrl(actorId, "/takeover"));
		try {
			await client.opened;
			const sent: string[] = [];
			const send = async (m: string): Promise<void> => {
				sent.push(m);
				await client.send(m);
			};
			for (let i = 0; i < 3; i++) await send(`m${i}`);
			await client.waitFrames(3, 30_000);

			const killedAt = Date.now();
			first.kill();
			await first.exited;
			for (let i = 3; i < 8; i++) await send(`m${i}`);
			const second = new RunnerProcess(pool);
			await waitFor(() => second.events("connected").length > 0, "the second runner to connect", 60_000);
			// Two more while the engine has not yet declared the first runner lost.
			for (let i = 8; i < 10; i++) await send(`m${i}`);

			await waitFor(
				() => client.frames.length >= sent.length || client.closed,
				"replies to every message",
				120_000,
				100,
			);
			const started = second.events("start")[0];
			console.log(
				`[takeover] actor restarted on the second runner ${started ? started.at - killedAt : "-"} ms after the kill; ` +
					`all replies ${Date.now() - killedAt} ms after it; client closed: ${JSON.stringify(client.closed)}`,
			);
			expect(client.closed).toBeUndefined();
			expect(client.texts).toEqual(sent.map((_, i) => `ack:${i + 1}`));
			const applied = [...first.events("applied"), ...second.events("applied")].map((r) => r.data);
			expect(applied).toEqual(sent);
			expect(second.events("socket")).toMatchObject([{ restored: true }]);
			expect(second.events("start")[0]?.counter).toBe(3);
			expect(readU32(await api.getKv(actorId, utf8Encode("counter")))).toBe(sent.length);
			expect(second.events("error")).toEqual([]);
		} finally {
			client.socket.terminate();
		}
	}, 240_000);
});
