/**
 * Actor KV on the real engine: every operation, the limits (checked locally, before any round trip), sleep/wake.
 */
import { type EngineHandle, startEngine } from "@x/dev-engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	KV_LIMITS,
	type KvEntry,
	KvLimitError,
	type Runner,
	RunnerError,
	utf8Decode,
	utf8Encode,
} from "../src/index.ts";
import {
	bytesEqual,
	createActor,
	ENGINE_TEST_TIMEOUT_MS,
	engineActor,
	gatewayFetch,
	makeRunner,
	pseudoRandomBytes,
	Recorder,
	shutdownAllRunners,
	uniquePool,
	waitFor,
	waitRunning,
} from "./support.ts";

let engine: EngineHandle;
let runner: Runner;
let pool: string;
const rec = new Recorder();

beforeAll(async () => {
	engine = await startEngine();
	pool = uniquePool("kv");
	await engine.api.upsertRunnerConfig(pool);
	runner = makeRunner(engine, pool, {
		...rec.callbacks(),
		// Reads KV from inside the actor: GET /get/<key> answers the value, or 404.
		fetch: async (request, { actorId, runner }) => {
			const key = decodeURIComponent(new URL(request.url).pathname.replace(/^\/get\//, ""));
			const [value] = await runner.kvGet(actorId, [utf8Encode(key)]);
			return value ? new Response(new Uint8Array(value)) : new Response("missing", { status: 404 });
		},
	});
	await runner.start();
});
afterAll(async () => {
	try {
		await runner?.shutdown();
	} finally {
		await shutdownAllRunners();
		await engine?.stop();
	}
});

/** A fresh running actor with its own empty store. */
async function newActor(crashPolicy: "restart" | "sleep" = "restart"): Promise<string> {
	const { actorId } = await createActor(engine, { name: "kv", runnerNameSelector: pool, crashPolicy });
	await waitRunning(engine, runner, actorId);
	return actorId;
}

const b = (text: string): Uint8Array => utf8Encode(text);
const entry = (key: string, value: string): KvEntry => [b(key), b(value)];
const text = (entries: KvEntry[]): string[][] => entries.map(([k, v]) => [utf8Decode(k), utf8Decode(v)]);
const keys = (entries: KvEntry[]): string[] => entries.map(([k]) => utf8Decode(k));

describe("KV on the real engine", { timeout: ENGINE_TEST_TIMEOUT_MS }, () => {
	it("get returns values in request order, null for missing keys", async () => {
		const id = await newActor();
		await runner.kvPut(id, [entry("a", "1"), entry("c", "3")]);
		const values = await runner.kvGet(id, [b("b"), b("a"), b("x"), b("c"), b("a")]);
		expect(values.map((v) => (v === null ? null : utf8Decode(v)))).toEqual([null, "1", null, "3", "1"]);
		expect(await runner.kvGet(id, [])).toEqual([]);
	});

	it("lists all, ranges (inclusive, exclusive), prefixes, reverse and limit in byte order", async () => {
		const id = await newActor();
		const all = ["a", "a\u0000", "ab", "b", "b/1", "b/2", "b/3", "c", "\u007f"];
		await runner.kvPut(
			id,
			[...all].reverse().map((k) => entry(k, `v:${k}`)),
		);
		expect(keys(await runner.kvListAll(id))).toEqual(all);
		expect(text(await runner.kvListAll(id, { limit: 2 }))).toEqual([
			["a", "v:a"],
			["a\u0000", "v:a\u0000"],
		]);
		expect(keys(await runner.kvListRange(id, b("ab"), b("b/2")))).toEqual(["ab", "b", "b/1", "b/2"]);
		expect(keys(await runner.kvListRange(id, b("ab"), b("b/2"), true))).toEqual(["ab", "b", "b/1"]);
		expect(keys(await runner.kvListRange(id, b("c"), b("a")))).toEqual([]);
		expect(keys(await runner.kvListPrefix(id, b("b/")))).toEqual(["b/1", "b/2", "b/3"]);
		expect(keys(await runner.kvListPrefix(id, b("a")))).toEqual(["a", "a\u0000", "ab"]);
		expect(keys(await runner.kvListPrefix(id, b("b/"), { reverse: true, limit: 2 }))).toEqual(["b/3", "b/2"]);
		expect(keys(await runner.kvListAll(id, { reverse: true, limit: 3 }))).toEqual(["\u007f", "c", "b/3"]);
		expect(keys(await runner.kvListRange(id, b("a"), b("c"), false, { reverse: true }))).toEqual(
			[...all.slice(0, 8)].reverse(),
		);
		expect(await runner.kvListAll(id, { limit: 0 })).toEqual([]);
	});

	it("put overwrites, delete and deleteRange [start, end) remove, drop empties", async () => {
		const id = await newActor();
		await runner.kvPut(
			id,
			["k1", "k2", "k3", "k4", "k5"].map((k) => entry(k, "old")),
		);
		await runner.kvPut(id, [entry("k2", "new"), entry("k6", "")]);
		expect(text(await runner.kvListAll(id))).toEqual([
			["k1", "old"],
			["k2", "new"],
			["k3", "old"],
			["k4", "old"],
			["k5", "old"],
			["k6", ""],
		]);
		await runner.kvDelete(id, [b("k1"), b("does-not-exist")]);
		expect(keys(await runner.kvListAll(id))).toEqual(["k2", "k3", "k4", "k5", "k6"]);
		await runner.kvDeleteRange(id, b("k3"), b("k5"));
		expect(keys(await runner.kvListAll(id))).toEqual(["k2", "k5", "k6"]);
		await runner.kvDeleteRange(id, b("k9"), b("k0")); // start > end: no-op
		expect(keys(await runner.kvListAll(id))).toEqual(["k2", "k5", "k6"]);
		await runner.kvDrop(id);
		expect(await runner.kvListAll(id)).toEqual([]);
		await runner.kvPut(id, [entry("after-drop", "ok")]);
		expect(text(await runner.kvListAll(id))).toEqual([["after-drop", "ok"]]);
	});

	it("round-trips values up to 128 KiB and 128 keys in one put, and the exact size limits", async () => {
		const id = await newActor();
		const big = pseudoRandomBytes(KV_LIMITS.maxValueBytes, 42);
		await runner.kvPut(id, [[b("big"), big]]);
		const [got] = await runner.kvGet(id, [b("big")]);
		expect(got?.length).toBe(KV_LIMITS.maxValueBytes);
		expect(bytesEqual(got, big)).toBe(true);
		const [listed] = await runner.kvListPrefix(id, b("big"));
		expect(bytesEqual(listed?.[1], big)).toBe(true);

		const many: KvEntry[] = Array.from({ length: 128 }, (_, i) => [
			b(`many/${String(i).padStart(3, "0")}`),
			pseudoRandomBytes(100, i + 1),
		]);
		await runner.kvPut(id, many);
		const back = await runner.kvGet(
			id,
			many.map(([k]) => k),
		);
		expect(back.every((v, i) => bytesEqual(v, many[i]![1]))).toBe(true);
		expect(await runner.kvListPrefix(id, b("many/"))).toHaveLength(128);

		// A 2046-byte key is the largest the engine accepts.
		const longKey = new Uint8Array(KV_LIMITS.maxKeyBytes).fill(0x6b);
		await runner.kvPut(id, [[longKey, b("long")]]);
		expect(utf8Decode((await runner.kvGet(id, [longKey]))[0] ?? new Uint8Array())).toBe("long");

		// A put of exactly 976 KiB (keys counted as length + 2) is accepted.
		const exact: KvEntry[] = Array.from({ length: 7 }, (_, i) => [
			b(`x${i}`),
			pseudoRandomBytes(131_072, i + 9),
		]);
		const used = exact.reduce((sum, [k, v]) => sum + k.length + 2 + v.length, 0) + 2 + 2;
		exact.push([b("x7"), pseudoRandomBytes(KV_LIMITS.maxPutPayloadBytes - used, 99)]);
		expect(exact.reduce((sum, [k, v]) => sum + k.length + 2 + v.length, 0)).toBe(
			KV_LIMITS.maxPutPayloadBytes,
		);
		await runner.kvPut(id, exact);
		const exactBack = await runner.kvGet(
			id,
			exact.map(([k]) => k),
		);
		expect(exactBack.every((v, i) => bytesEqual(v, exact[i]![1]))).toBe(true);
	});

	it("rejects over-limit calls with KvLimitError before any round trip", async () => {
		const id = await newActor();
		const key2047 = new Uint8Array(2047).fill(0x61);
		const value131073 = new Uint8Array(131_073);
		const entries129: KvEntry[] = Array.from({ length: 129 }, (_, i) => entry(`e${i}`, "v"));
		const oversized: KvEntry[] = Array.from({ length: 8 }, (_, i) => [b(`o${i}`), new Uint8Array(131_072)]);
		const overByOne: KvEntry[] = [
			...Array.from({ length: 7 }, (_, i): KvEntry => [b(`x${i}`), new Uint8Array(131_072)]),
			[b("x7"), new Uint8Array(KV_LIMITS.maxPutPayloadBytes - 7 * (131_072 + 4) - 4 + 1)],
		];
		const cases: Array<[string, () => Promise<unknown>, string]> = [
			["get with a 2047-byte key", () => runner.kvGet(id, [key2047]), "keySize"],
			["put with a 2047-byte key", () => runner.kvPut(id, [[key2047, b("v")]]), "keySize"],
			["delete with a 2047-byte key", () => runner.kvDelete(id, [key2047]), "keySize"],
			["listPrefix with a 2047-byte prefix", () => runner.kvListPrefix(id, key2047), "keySize"],
			["listRange with a 2047-byte start", () => runner.kvListRange(id, key2047, b("z")), "keySize"],
			["deleteRange with a 2047-byte end", () => runner.kvDeleteRange(id, b("a"), key2047), "keySize"],
			["put of a 131073-byte value", () => runner.kvPut(id, [[b("v"), value131073]]), "valueSize"],
			["put of 129 entries", () => runner.kvPut(id, entries129), "keyCount"],
			[
				"get of 129 keys",
				() =>
					runner.kvGet(
						id,
						entries129.map(([k]) => k),
					),
				"keyCount",
			],
			["put over 976 KiB", () => runner.kvPut(id, oversized), "payloadSize"],
			["put 1 byte over 976 KiB", () => runner.kvPut(id, overByOne), "payloadSize"],
		];
		for (const [label, call, limit] of cases) {
			// Every KV call returns a promise that rejects; none throws synchronously (regression: kvListRange and
			// kvListPrefix used to throw at the call site, escaping `.catch()` chains).
			let returned: unknown;
			expect(() => {
				returned = call();
			}, label).not.toThrow();
			expect(returned, label).toBeInstanceOf(Promise);
			const error = await (returned as Promise<unknown>).then(
				() => new Error(`${label}: resolved`),
				(e: unknown) => e,
			);
			expect(error, label).toBeInstanceOf(KvLimitError);
			expect((error as KvLimitError).code, label).toBe("KV_LIMIT");
			expect((error as KvLimitError).limit, label).toBe(limit);
		}
		// "Before the round trip": the same calls for an actor this runner does not host fail with the limit error, not
		// with ACTOR_NOT_FOUND, and nothing reached the store.
		await expect(runner.kvPut("0".repeat(30), [[key2047, b("v")]])).rejects.toBeInstanceOf(KvLimitError);
		await expect(runner.kvPut("0".repeat(30), entries129)).rejects.toBeInstanceOf(KvLimitError);
		expect(await runner.kvListAll(id)).toEqual([]);
		// And a normal call on an actor not hosted here fails fast with a typed error.
		const notHosted = await runner.kvGet("0".repeat(30), [b("a")]).catch((e: unknown) => e);
		expect(notHosted).toBeInstanceOf(RunnerError);
		expect((notHosted as RunnerError).code).toBe("ACTOR_NOT_FOUND");
	});

	it("keeps KV across sleep and wake, and the engine API reads what the runner wrote", async () => {
		const id = await newActor();
		const value = pseudoRandomBytes(20_000, 5);
		await runner.kvPut(id, [entry("greeting", "hello"), [b("blob"), value]]);
		expect(utf8Decode((await engine.api.getKv(id, "greeting")) ?? new Uint8Array())).toBe("hello");
		expect(bytesEqual(await engine.api.getKv(id, b("blob")), value)).toBe(true);
		expect(await engine.api.getKv(id, "missing")).toBeNull();

		runner.sleepActor(id);
		await waitFor(() => rec.stopsOf(id).some((s) => s.reason === "sleep"), "actor asleep");
		await waitFor(async () => (await engineActor(engine, id)).sleepTs, "engine shows it asleep");
		expect(runner.hasActor(id)).toBe(false);
		// The store is readable through the API while the actor sleeps.
		expect(utf8Decode((await engine.api.getKv(id, "greeting")) ?? new Uint8Array())).toBe("hello");

		// The gateway request wakes it; the handler reads KV from inside the new generation.
		expect(await gatewayFetch(engine, id, "/get/greeting")).toEqual({ status: 200, text: "hello" });
		expect(runner.getActor(id)?.generation).toBe(1);
		const [blob] = await runner.kvGet(id, [b("blob")]);
		expect(bytesEqual(blob, value)).toBe(true);
		expect((await gatewayFetch(engine, id, "/get/nothing")).status).toBe(404);
	});
});
