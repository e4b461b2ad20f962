/**
 * Actor KV: every operation against the real engine, and every limit error (checked before any round trip), with
 * the exact maxima accepted.
 *
 * @module
 */
import type { EngineHandle } from "@x/dev-engine";
import type { KvEntry } from "@x/runner-core";
import { assertEquals, captureError, prop } from "../assert.ts";
import type { ScenarioContext } from "../context.ts";
import type { RunnerLike } from "../env.ts";
import { pseudoRandomBytes, Recorder, text, utf8, waitFor } from "../support.ts";
import type { Scenario } from "./types.ts";

const entry = (key: string, value: string): KvEntry => [utf8(key), utf8(value)];
const keysOf = (entries: KvEntry[]): string[] => entries.map(([k]) => text(k));
const pairs = (entries: KvEntry[]): string[][] => entries.map(([k, v]) => [text(k), text(v)]);

async function kvActor(
	ctx: ScenarioContext,
	prefix: string,
): Promise<{ engine: EngineHandle; runner: RunnerLike; actorId: string; rec: Recorder }> {
	const engine = await ctx.engine();
	const pool = await ctx.pool(prefix);
	const rec = new Recorder();
	const runner = await ctx.runner(pool, rec.callbacks());
	await runner.start();
	const { actorId } = await ctx.createActor({
		name: "kv",
		runnerNameSelector: pool,
		crashPolicy: "restart",
	});
	await waitFor(() => runner.getActor(actorId)?.state === "running", "actor running");
	return { engine, runner, actorId, rec };
}

export const kvOperations: Scenario = {
	name: "KV: get, put, list (all, range, prefix, reverse, limit), delete, deleteRange and drop",
	timeoutMs: 45_000,
	async run(ctx) {
		const { engine, runner, actorId: id, rec } = await kvActor(ctx, "kv-ops");
		const all = ["a", "a\u0000", "ab", "b", "b/1", "b/2", "b/3", "c", "\u007f"];
		await runner.kvPut(
			id,
			[...all].reverse().map((k) => entry(k, `v:${k}`)),
		);
		const got = await runner.kvGet(id, [utf8("b"), utf8("zz"), utf8("a"), utf8("b")]);
		assertEquals(
			got.map((v) => (v === null ? null : text(v))),
			["v:b", null, "v:a", "v:b"],
			"get in request order, null when missing",
		);
		assertEquals(await runner.kvGet(id, []), [], "get of no keys");
		assertEquals(keysOf(await runner.kvListAll(id)), all, "listAll in byte order");
		assertEquals(
			pairs(await runner.kvListAll(id, { limit: 2 })),
			[
				["a", "v:a"],
				["a\u0000", "v:a\u0000"],
			],
			"listAll limit 2",
		);
		assertEquals(
			keysOf(await runner.kvListAll(id, { reverse: true, limit: 3 })),
			["\u007f", "c", "b/3"],
			"reverse",
		);
		assertEquals(keysOf(await runner.kvListAll(id, { limit: 0 })), [], "listAll limit 0");
		assertEquals(
			keysOf(await runner.kvListRange(id, utf8("ab"), utf8("b/2"))),
			["ab", "b", "b/1", "b/2"],
			"listRange inclusive",
		);
		assertEquals(
			keysOf(await runner.kvListRange(id, utf8("ab"), utf8("b/2"), true)),
			["ab", "b", "b/1"],
			"listRange exclusive",
		);
		assertEquals(keysOf(await runner.kvListRange(id, utf8("c"), utf8("a"))), [], "listRange start > end");
		assertEquals(keysOf(await runner.kvListPrefix(id, utf8("b/"))), ["b/1", "b/2", "b/3"], "listPrefix");
		assertEquals(
			keysOf(await runner.kvListPrefix(id, utf8("b/"), { reverse: true, limit: 2 })),
			["b/3", "b/2"],
			"listPrefix reverse limit",
		);

		await runner.kvPut(id, [entry("b", "new"), entry("d", "")]);
		assertEquals(text((await runner.kvGet(id, [utf8("b")]))[0]), "new", "put overwrites");
		assertEquals((await runner.kvGet(id, [utf8("d")]))[0]?.length, 0, "empty value stored");
		await runner.kvDelete(id, [utf8("a"), utf8("does-not-exist")]);
		assertEquals(keysOf(await runner.kvListPrefix(id, utf8("a"))), ["a\u0000", "ab"], "delete");
		await runner.kvDeleteRange(id, utf8("b/1"), utf8("b/3"));
		assertEquals(keysOf(await runner.kvListPrefix(id, utf8("b"))), ["b", "b/3"], "deleteRange [start, end)");
		// The engine's own API reads what the runner wrote.
		assertEquals(text(await engine.api.getKv(id, "b")), "new", "engine API getKv");
		assertEquals(await engine.api.getKv(id, "a"), null, "engine API getKv of a deleted key");

		const big = pseudoRandomBytes(100_000, 3);
		await runner.kvPut(id, [[utf8("big"), big]]);
		assertEquals((await runner.kvGet(id, [utf8("big")]))[0], big, "100 kB value round trip");

		await runner.kvDrop(id);
		assertEquals(await runner.kvListAll(id), [], "listAll after drop");
		await runner.kvPut(id, [entry("after-drop", "ok")]);
		assertEquals(pairs(await runner.kvListAll(id)), [["after-drop", "ok"]], "put after drop");
		assertEquals(rec.errors, [], "onError reports");
	},
};

export const kvLimits: Scenario = {
	name: "KV: the exact limits are accepted and every over-limit call fails with KV_LIMIT before a round trip",
	timeoutMs: 45_000,
	async run(ctx) {
		const { runner, actorId: id } = await kvActor(ctx, "kv-limits");
		const maxValue = pseudoRandomBytes(131_072, 42);
		const maxKey = new Uint8Array(2046).fill(0x6b);
		const many: KvEntry[] = Array.from({ length: 128 }, (_, i) => [
			utf8(`many/${String(i).padStart(3, "0")}`),
			pseudoRandomBytes(64, i + 1),
		]);
		await runner.kvPut(id, [[utf8("max-value"), maxValue]]);
		await runner.kvPut(id, [[maxKey, utf8("max-key")]]);
		await runner.kvPut(id, many);
		assertEquals((await runner.kvGet(id, [utf8("max-value")]))[0], maxValue, "131072-byte value");
		assertEquals(text((await runner.kvGet(id, [maxKey]))[0]), "max-key", "2046-byte key");
		const back = await runner.kvGet(
			id,
			many.map(([k]) => k),
		);
		assertEquals(
			back,
			many.map(([, v]) => v),
			"128 keys in one get",
		);
		// A put of exactly 999424 bytes (each key counted as length + 2).
		const exact: KvEntry[] = Array.from({ length: 7 }, (_, i) => [
			utf8(`x${i}`),
			pseudoRandomBytes(131_072, i + 9),
		]);
		const used = exact.reduce((sum, [k, v]) => sum + k.length + 2 + v.length, 0) + 2 + 2;
		exact.push([utf8("x7"), pseudoRandomBytes(999_424 - used, 99)]);
		await runner.kvPut(id, exact);
		assertEquals(
			await runner.kvGet(
				id,
				exact.map(([k]) => k),
			),
			exact.map(([, v]) => v),
			"a put of exactly 976 KiB",
		);

		const key2047 = new Uint8Array(2047).fill(0x61);
		const entries129: KvEntry[] = Array.from({ length: 129 }, (_, i) => entry(`e${i}`, "v"));
		const overByOne: KvEntry[] = [...exact.slice(0, 7), [utf8("x7"), new Uint8Array(999_424 - used + 1)]];
		const notHosted = "0".repeat(30);
		const cases: Array<[string, () => unknown, string]> = [
			["get with a 2047-byte key", () => runner.kvGet(id, [key2047]), "keySize"],
			["put with a 2047-byte key", () => runner.kvPut(id, [[key2047, utf8("v")]]), "keySize"],
			["delete with a 2047-byte key", () => runner.kvDelete(id, [key2047]), "keySize"],
			["listPrefix with a 2047-byte prefix", () => runner.kvListPrefix(id, key2047), "keySize"],
			["listRange with a 2047-byte start", () => runner.kvListRange(id, key2047, utf8("z")), "keySize"],
			[
				"put of a 131073-byte value",
				() => runner.kvPut(id, [[utf8("v"), new Uint8Array(131_073)]]),
				"valueSize",
			],
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
			[
				"delete of 129 keys",
				() =>
					runner.kvDelete(
						id,
						entries129.map(([k]) => k),
					),
				"keyCount",
			],
			["put 1 byte over 976 KiB", () => runner.kvPut(id, overByOne), "payloadSize"],
			// Checked before the round trip: an actor this runner does not host gets the limit error, not ACTOR_NOT_FOUND.
			[
				"put with a 2047-byte key, actor not hosted",
				() => runner.kvPut(notHosted, [[key2047, utf8("v")]]),
				"keySize",
			],
		];
		for (const [label, call, limit] of cases) {
			const error = await captureError(call, label);
			assertEquals([prop(error, "code"), prop(error, "limit")], ["KV_LIMIT", limit], label);
			assertEquals(prop(error, "name"), "KvLimitError", `${label}: error name`);
		}
		// Nothing of the refused calls reached the store.
		assertEquals(await runner.kvListPrefix(id, utf8("e")), [], "no entry of a refused put");
		assertEquals((await runner.kvGet(id, [utf8("v")]))[0], null, "no value of a refused put");
		const missing = await captureError(
			() => runner.kvGet(notHosted, [utf8("a")]),
			"get for an actor not hosted",
		);
		assertEquals(prop(missing, "code"), "ACTOR_NOT_FOUND", "get for an actor not hosted");
	},
};
