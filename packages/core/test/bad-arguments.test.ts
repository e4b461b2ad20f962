/**
 * Every public entry point rejects bad arguments with a typed error whose message names the argument.
 */
import { describe, expect, it } from "vitest";
import {
	InvalidArgumentError,
	isRunnerError,
	KvLimitError,
	Runner,
	type RunnerOptions,
} from "../src/index.ts";
import { FakeEngine, ManualClock } from "../src/testing/index.ts";
import { connected, startActors } from "./helpers.ts";

/** Runs `call` (sync or async) and returns what it threw or rejected with. */
async function failure(call: () => unknown): Promise<InvalidArgumentError | KvLimitError> {
	try {
		await call();
	} catch (error) {
		expect(isRunnerError(error)).toBe(true);
		return error as InvalidArgumentError | KvLimitError;
	}
	throw new Error("expected a failure");
}

async function rejectsNaming(argument: string, call: () => unknown): Promise<void> {
	const error = await failure(call);
	expect(error).toBeInstanceOf(InvalidArgumentError);
	expect((error as InvalidArgumentError).argument).toBe(argument);
	expect(error.message.startsWith(`${argument}:`)).toBe(true);
}

const base: RunnerOptions = {
	endpoint: "http://engine.test",
	runnerName: "pool",
	totalSlots: 1,
	onActorStart: () => {},
	platform: { webSocket: new FakeEngine().webSocket, clock: new ManualClock() },
};

describe("bad configuration", () => {
	const cases: Array<[string, Partial<Record<keyof RunnerOptions, unknown>>]> = [
		["endpoint", { endpoint: "not a url" }],
		["endpoint", { endpoint: "ftp://engine.test" }],
		["endpoint", { endpoint: 42 }],
		["endpoint", { endpoint: "http://user:secret@engine.test" }],
		["namespace", { namespace: "" }],
		["runnerName", { runnerName: "" }],
		["totalSlots", { totalSlots: 0 }],
		["totalSlots", { totalSlots: 1.5 }],
		["totalSlots", { totalSlots: 2 ** 32 }],
		["version", { version: -1 }],
		["handshakeTimeoutMs", { handshakeTimeoutMs: 0 }],
		["livenessTimeoutMs", { livenessTimeoutMs: Number.NaN }],
		["kvTimeoutMs", { kvTimeoutMs: -5 }],
		["actorStartTimeoutMs", { actorStartTimeoutMs: "10s" }],
		["drainDeadlineMs", { drainDeadlineMs: Number.POSITIVE_INFINITY }],
		["onActorStart", { onActorStart: undefined }],
		["fetch", { fetch: "handler" }],
		["onEviction", { onEviction: "explode" }],
		["signals", { signals: "yes" }],
		["hibernation.commit", { hibernation: { commit: "sometimes" } }],
		["hibernation.gapPolicy", { hibernation: { gapPolicy: "ignore" } }],
		["hibernation.unlistedGraceMs", { hibernation: { unlistedGraceMs: -1 } }],
		["hibernation.resyncHoldMs", { hibernation: { resyncHoldMs: "1s" } }],
		["hibernation.store.load", { hibernation: { store: { save() {} } } }],
		["maxResponseBodyBytes", { maxResponseBodyBytes: 0 }],
	];
	for (const [argument, override] of cases) {
		it(`rejects ${JSON.stringify(override)} naming ${argument}`, async () => {
			await rejectsNaming(argument, () => new Runner({ ...base, ...override } as RunnerOptions));
		});
	}

	it("rejects a bad reconnect policy naming the field", async () => {
		await rejectsNaming(
			"reconnect.maxDelayMs",
			() => new Runner({ ...base, reconnect: { initialDelayMs: 5000, maxDelayMs: 10 } }),
		);
		await rejectsNaming(
			"limits.maxPendingKvRequests",
			() => new Runner({ ...base, limits: { maxPendingKvRequests: 0 } }),
		);
	});
});

describe("bad arguments to a running runner", () => {
	it("rejects actor ids, generations, alarm timestamps and shutdown modes", async () => {
		const h = await connected();
		await startActors(h, "a1");
		await rejectsNaming("actorId", () => h.runner.sleepActor(""));
		await rejectsNaming("generation", () => h.runner.stopActor("a1", -1));
		await rejectsNaming("timestamp", () => h.runner.setAlarm("a1", Number.NaN));
		await rejectsNaming("timestamp", () => h.runner.setAlarm("a1", -1));
		await rejectsNaming("timestamp", () => h.runner.setAlarm("a1", "tomorrow" as unknown as number));
		await rejectsNaming("mode", () => h.runner.shutdown({ mode: "later" as "drain" }));
		await rejectsNaming("index", () => h.runner.ackWebSocketMessage("00000000", "00000000", 70_000));
		await rejectsNaming("gatewayId", () => h.runner.ackWebSocketMessage("xyz", "00000000", 1));
		const unknown = await failure(() => h.runner.kvGet("nope", []));
		expect(unknown.code).toBe("ACTOR_NOT_FOUND");
	});

	it("rejects KV keys and values of the wrong type or size, naming them", async () => {
		const h = await connected();
		await startActors(h, "a1");
		await rejectsNaming("keys", () => h.runner.kvGet("a1", "k" as unknown as Uint8Array[]));
		await rejectsNaming("keys[1]", () =>
			h.runner.kvGet("a1", [new Uint8Array(1), "k" as unknown as Uint8Array]),
		);
		await rejectsNaming("entries[0][1]", () =>
			h.runner.kvPut("a1", [[new Uint8Array(1), 5 as unknown as Uint8Array]]),
		);
		await rejectsNaming("entries[0]", () =>
			h.runner.kvPut("a1", [[new Uint8Array(1)] as unknown as [Uint8Array, Uint8Array]]),
		);
		await rejectsNaming("limit", () => h.runner.kvListAll("a1", { limit: -1 }));
		const big = await failure(() => h.runner.kvPut("a1", [[new Uint8Array(1), new Uint8Array(131_073)]]));
		expect(big).toBeInstanceOf(KvLimitError);
		expect((big as KvLimitError).limit).toBe("valueSize");
		expect(big.message).toContain("entries[0][1]");
		const key = await failure(() => h.runner.kvDelete("a1", [new Uint8Array(2047)]));
		expect((key as KvLimitError).limit).toBe("keySize");
		expect(key.message).toContain("keys[0]");
		expect(h.engine.last.sent("ToServerKvRequest")).toEqual([]);
	});
});
