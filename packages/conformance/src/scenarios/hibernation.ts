/**
 * Hibernating WebSockets: the client's socket stays open while its actor sleeps, messages sent while it sleeps wake
 * it, and with manual commits every message is applied exactly once across two sleep/wake cycles.
 *
 * @module
 */
import type { TunnelMessageEvent } from "@x/runner-core";
import { assert, assertEquals } from "../assert.ts";
import { engineActor, Recorder, text, utf8, waitFor } from "../support.ts";
import type { ClientMessage } from "../ws-client.ts";
import type { Scenario } from "./types.ts";

/** One message as the actor applied it. */
interface Applied {
	readonly text: string;
	readonly generation: number;
	readonly index: number;
	readonly restored: boolean;
}

const COUNT_KEY = utf8("count");

export const hibernationExactlyOnce: Scenario = {
	name: "hibernation: the socket survives two sleeps, messages sent while asleep wake the actor, each applied exactly once",
	timeoutMs: 90_000,
	async run(ctx) {
		const engine = await ctx.engine();
		const pool = await ctx.pool("hibernate");
		const rec = new Recorder();
		const applied: Applied[] = [];
		const runner = await ctx.runner(pool, {
			...rec.callbacks(),
			canHibernate: () => true,
			hibernation: { commit: "manual" },
			websocket: (socket, { actorId, generation, restored, runner: host }) => {
				// Messages are applied one at a time: read the counter, then commit counter + 1 with the message.
				let chain: Promise<void> = Promise.resolve();
				const apply = async (event: TunnelMessageEvent): Promise<void> => {
					const message = typeof event.data === "string" ? event.data : "<binary>";
					const [current] = await host.kvGet(actorId, [COUNT_KEY]);
					const count = Number(text(current) || "0") + 1;
					await event.commit([
						[COUNT_KEY, utf8(String(count))],
						[utf8(`msg/${message}`), utf8(`${generation}:${count}`)],
					]);
					applied.push({ text: message, generation, index: event.messageIndex, restored });
					socket.send(`ok:${message}:${generation}:${count}`);
				};
				socket.addEventListener("message", (event) => {
					chain = chain.then(() => apply(event));
				});
			},
		});
		await runner.start();
		const { actorId } = await ctx.createActor({
			name: "hib",
			runnerNameSelector: pool,
			crashPolicy: "sleep",
		});
		// A "sleep" actor is started by the gateway request that opens the socket.
		const client = await ctx.connect(engine, actorId, "/chat");
		const names: string[] = [];
		const send = (name: string): void => {
			names.push(name);
			client.send(name);
		};
		for (const name of ["a1", "a2", "a3"]) send(name);
		await client.waitForCount(3, 20_000);

		// The first start is usually generation 0, but 1 when the engine tried to place the actor before this runner was
		// eligible (a "sleep" actor then sleeps unallocated, and the wake reallocates it as generation + 1): each wake
		// must start the generation after the previous one.
		const first = rec.startsOf(actorId)[0]?.generation ?? 0;
		for (let cycle = 1; cycle <= 2; cycle++) {
			runner.sleepActor(actorId);
			await waitFor(() => rec.stopsOf(actorId).length === cycle, `sleep ${cycle}: onActorStop`);
			assertEquals(rec.stopsOf(actorId)[cycle - 1]?.reason, "sleep", `sleep ${cycle}: stop reason`);
			await waitFor(async () => {
				const actor = await engineActor(engine, actorId);
				return actor.sleepTs !== null && actor.connectableTs === null;
			}, `sleep ${cycle}: the engine shows the actor asleep`);
			assertEquals(runner.hasActor(actorId), false, `sleep ${cycle}: actor gone from the runner`);
			assert(
				client.open,
				`sleep ${cycle}: the client socket stayed open (closed: ${JSON.stringify(client.closeInfo)})`,
			);
			const before = names.length;
			for (const i of [1, 2, 3]) send(`s${cycle}-${i}`);
			await client.waitForCount(names.length, 30_000);
			const history = (): string =>
				`starts ${JSON.stringify(rec.startsOf(actorId).map((s) => s.generation))}, stops ${JSON.stringify(
					rec.stopsOf(actorId).map((s) => `${s.generation}:${s.reason}`),
				)}, errors ${JSON.stringify(rec.errors)}`;
			const start = rec.startsOf(actorId)[cycle];
			assertEquals(
				start?.generation,
				first + cycle,
				`wake ${cycle}: generation of the new start (${history()})`,
			);
			assertEquals(
				applied.slice(before).map((a) => [a.text, a.generation, a.restored]),
				names.slice(before).map((name) => [name, first + cycle, true]),
				`wake ${cycle}: messages sent while asleep, applied by the restored socket`,
			);
		}

		// Exactly once, in order, with consecutive indexes, and the replies matched.
		assertEquals(
			applied.map((a) => a.text),
			names,
			"applied messages (no loss, no duplicate, in order)",
		);
		const indexes = applied.map((a) => a.index);
		indexes.slice(1).forEach((index, i) => {
			assertEquals(index, ((indexes[i] ?? 0) + 1) & 0xffff, `index after ${indexes[i]}`);
		});
		assertEquals(
			client.received.map((m: ClientMessage) => (m.kind === "text" ? m.text : "<binary>")),
			applied.map((a, i) => `ok:${a.text}:${a.generation}:${i + 1}`),
			"replies to the client",
		);
		assertEquals(text(await engine.api.getKv(actorId, COUNT_KEY)), String(names.length), "KV counter");
		for (const [i, name] of names.entries()) {
			const value = text(await engine.api.getKv(actorId, `msg/${name}`));
			assertEquals(value.split(":")[1], String(i + 1), `KV entry of ${name}`);
		}
		assertEquals(runner.webSocketMetrics.restored, 2, "sockets restored (one per wake)");
		assert(client.open, "client socket open at the end");
		assertEquals(rec.errors, [], "onError reports");
	},
};
