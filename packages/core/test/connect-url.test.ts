import { describe, expect, it } from "vitest";
import { InvalidArgumentError, Runner, type RunnerOptions } from "../src/index.ts";
import { FakeEngine, ManualClock } from "../src/testing/index.ts";
import { connected, harness } from "./helpers.ts";

async function urlFor(endpoint: string, extra: Partial<RunnerOptions> = {}): Promise<URL> {
	const h = await connected({ endpoint, runnerKey: "key-1", ...extra });
	return new URL(h.engine.last.url);
}

describe("connect URL", () => {
	it("turns http into ws and adds the three query parameters", async () => {
		const url = await urlFor("http://engine.test:6420");
		expect(url.protocol).toBe("ws:");
		expect(url.host).toBe("engine.test:6420");
		expect(url.pathname).toBe("/runners/connect");
		expect(url.searchParams.get("protocol_version")).toBe("7");
		expect(url.searchParams.get("namespace")).toBe("default");
		expect(url.searchParams.get("runner_key")).toBe("key-1");
	});

	it("turns https into wss", async () => {
		expect((await urlFor("https://engine.test")).protocol).toBe("wss:");
	});

	it("keeps ws and wss endpoints as they are", async () => {
		expect((await urlFor("ws://engine.test")).protocol).toBe("ws:");
		expect((await urlFor("wss://engine.test")).protocol).toBe("wss:");
	});

	it("keeps a path prefix and existing query parameters, and drops a trailing slash", async () => {
		const url = await urlFor("https://proxy.test/rivet/?region=eu&x=1", { namespace: "my ns" });
		expect(url.pathname).toBe("/rivet/runners/connect");
		expect(url.searchParams.get("region")).toBe("eu");
		expect(url.searchParams.get("x")).toBe("1");
		expect(url.searchParams.get("namespace")).toBe("my ns");
		expect(url.searchParams.get("protocol_version")).toBe("7");
	});

	it("drops several trailing slashes and any fragment", async () => {
		const url = await urlFor("http://engine.test/base//#frag");
		expect(url.pathname).toBe("/base/runners/connect");
		expect(url.hash).toBe("");
	});

	it("uses a random runner key when none is given, stable across reconnects", async () => {
		const h = await connected({ platform: { randomUUID: () => "uuid-42" } });
		expect(new URL(h.engine.last.url).searchParams.get("runner_key")).toBe("uuid-42");
		h.engine.last.drop(1011, "ws.going_away");
		await h.clock.advance(1000);
		expect(h.engine.connections).toHaveLength(2);
		expect(h.engine.connections[1]!.url).toBe(h.engine.connections[0]!.url);
	});
});

describe("subprotocols and token", () => {
	it("offers only `rivet` without a token", async () => {
		const h = await connected();
		expect(h.engine.last.protocols).toEqual(["rivet"]);
	});

	it("offers `rivet` and `rivet_token.<token>` with a token", async () => {
		const h = await connected({ token: "s3cret" });
		expect(h.engine.last.protocols).toEqual(["rivet", "rivet_token.s3cret"]);
		expect(h.engine.last.url).not.toContain("s3cret");
	});

	it("calls a token function again for every connection", async () => {
		let n = 0;
		const h = await connected({ token: () => `tok-${++n}` });
		expect(h.engine.last.protocols).toEqual(["rivet", "rivet_token.tok-1"]);
		h.engine.last.drop(1011, "ws.going_away");
		await h.clock.advance(1000);
		expect(h.engine.connections).toHaveLength(2);
		expect(h.engine.last.protocols).toEqual(["rivet", "rivet_token.tok-2"]);
		expect(h.runner.connected).toBe(true);
	});

	it("awaits an async token function", async () => {
		const h = await connected({ token: async () => "async-tok" });
		expect(h.engine.last.protocols).toEqual(["rivet", "rivet_token.async-tok"]);
	});

	it("reports a token function that returns nothing usable and retries with backoff", async () => {
		let calls = 0;
		const h = harness({ token: () => (++calls === 1 ? "" : "good") });
		const started = h.runner.start();
		await h.clock.advance(0);
		expect(h.engine.connections).toHaveLength(0);
		expect(h.errors.map((e) => e.code)).toContain("INVALID_CONFIG");
		await h.clock.advance(1000);
		await started;
		expect(h.engine.last.protocols).toEqual(["rivet", "rivet_token.good"]);
	});
});

describe("ToServerInit", () => {
	it("carries name, version, slots, prepopulated names and metadata as JSON", async () => {
		const h = await connected({
			runnerName: "workers",
			version: 3,
			totalSlots: 25,
			prepopulateActorNames: { counter: { metadata: { icon: "c" } }, chat: {} },
			metadata: { region: "eu", n: 1 },
		});
		const init = h.engine.last.sent("ToServerInit")[0]!;
		expect(init.name).toBe("workers");
		expect(init.version).toBe(3);
		expect(init.totalSlots).toBe(25);
		expect(init.prepopulateActorNames).toBeInstanceOf(Map);
		expect(JSON.parse(init.prepopulateActorNames!.get("counter")!.metadata)).toEqual({ icon: "c" });
		expect(JSON.parse(init.prepopulateActorNames!.get("chat")!.metadata)).toEqual({});
		expect(JSON.parse(init.metadata!)).toEqual({ region: "eu", n: 1 });
	});

	it("defaults version to 1 and sends null for absent names and metadata", async () => {
		const h = await connected();
		const init = h.engine.last.sent("ToServerInit")[0]!;
		expect(init).toMatchObject({ name: "pool", version: 1, totalSlots: 10 });
		expect(init.prepopulateActorNames).toBeNull();
		expect(init.metadata).toBeNull();
	});

	it("is the first frame on every connection", async () => {
		const h = await connected();
		h.engine.last.drop(1011, "ws.going_away");
		await h.clock.advance(1000);
		for (const conn of h.engine.connections) expect(conn.received[0]?.tag).toBe("ToServerInit");
		expect(h.engine.connections[1]!.sent("ToServerInit")).toHaveLength(1);
	});
});

describe("config validation", () => {
	const base: RunnerOptions = {
		endpoint: "http://engine.test",
		runnerName: "pool",
		totalSlots: 1,
		onActorStart: () => {},
		platform: { webSocket: new FakeEngine().webSocket, clock: new ManualClock() },
	};

	function configError(patch: Record<string, unknown>): InvalidArgumentError {
		try {
			new Runner({ ...base, ...patch } as unknown as RunnerOptions);
		} catch (error) {
			if (error instanceof InvalidArgumentError) return error;
			throw error;
		}
		throw new Error(`no error for ${JSON.stringify(patch)}`);
	}

	it.each([
		["endpoint", { endpoint: undefined }],
		["endpoint", { endpoint: "" }],
		["endpoint", { endpoint: "not a url" }],
		["endpoint", { endpoint: "ftp://engine.test" }],
		["endpoint", { endpoint: "http://user:pw@engine.test" }],
		["namespace", { namespace: "" }],
		["namespace", { namespace: 7 }],
		["runnerName", { runnerName: "" }],
		["runnerName", { runnerName: undefined }],
		["totalSlots", { totalSlots: 0 }],
		["totalSlots", { totalSlots: 1.5 }],
		["totalSlots", { totalSlots: 2 ** 32 }],
		["handshakeTimeoutMs", { handshakeTimeoutMs: -1 }],
		["livenessTimeoutMs", { livenessTimeoutMs: -5 }],
		["runnerLostTimeoutMs", { runnerLostTimeoutMs: -1 }],
		["actorStartTimeoutMs", { actorStartTimeoutMs: -1 }],
		["actorStopTimeoutMs", { actorStopTimeoutMs: -1 }],
		["kvTimeoutMs", { kvTimeoutMs: -1 }],
		["kvTimeoutMs", { kvTimeoutMs: Number.NaN }],
		["drainDeadlineMs", { drainDeadlineMs: -1 }],
		["token", { token: 42 }],
		["token", { token: "" }],
		["onActorStart", { onActorStart: undefined }],
		["onActorStart", { onActorStart: "start" }],
		["onActorStop", { onActorStop: 1 }],
		["onEviction", { onEviction: "ignore" }],
	])("rejects a bad %s", (argument, patch) => {
		const error = configError(patch);
		expect(error.argument).toBe(argument);
		expect(error.code).toBe("INVALID_CONFIG");
		expect(error.message.startsWith(`${argument}:`)).toBe(true);
	});

	it("accepts the minimal options and connects nowhere until start()", () => {
		const engine = new FakeEngine();
		const runner = new Runner({
			...base,
			platform: { webSocket: engine.webSocket, clock: new ManualClock() },
		});
		expect(runner.connected).toBe(false);
		expect(engine.connections).toHaveLength(0);
	});
});
