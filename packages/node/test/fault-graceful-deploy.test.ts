/**
 * Graceful deploy: runner A (a child process, fixtures/fault/runner.mjs) hosts actors with live hibernatable client
 * sockets; runner B of the same pool is up. SIGTERM to A drains it: A must exit 0 within its drain budget, showing
 * progress; the actors move to B with their sockets (restored, not reopened); clients see no close; every message
 * sent before, during and after the deploy is answered and applied exactly once.
 */
import { type EngineHandle, startEngine } from "@x/dev-engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { utf8Decode, utf8Encode } from "../src/index.ts";
import {
	type Application,
	appliedKey,
	COUNTER_KEY,
	duplicates,
	EngineTracker,
	exactlyOnceHandler,
	GatewayClient,
	killFixtures,
	settled,
	sleep,
	spawnFixture,
	uniquePool,
	waitFor,
} from "./fault-support.ts";
import { makeRunner, Recorder, shutdownAllRunners } from "./support.ts";

const engines = new EngineTracker();
let engine: EngineHandle;
beforeAll(async () => {
	engine = engines.add(await startEngine());
});
afterAll(async () => {
	await killFixtures();
	await shutdownAllRunners();
	expect(await engines.stopAll()).toEqual([]);
});

const DRAIN_DEADLINE_MS = 20_000;

describe("graceful deploy (SIGTERM to a runner while another of its pool is up)", () => {
	it("drains within the budget, moves the sockets to the other runner, and loses or repeats no message", async () => {
		const pool = uniquePool("fault-deploy");
		await engine.api.upsertRunnerConfig(pool);
		const a = spawnFixture("runner.mjs", {
			FAULT_ENDPOINT: engine.endpoint,
			FAULT_POOL: pool,
			FAULT_DRAIN_DEADLINE_MS: String(DRAIN_DEADLINE_MS),
			FAULT_STOP_DELAY_MS: "1500",
		});
		const clients: GatewayClient[] = [];
		let stop = false;
		let senders: Array<Promise<void>> = [];
		try {
			await a.waitLine(/^fault:connected /, 20_000);
			const policies = ["restart", "restart", "sleep"] as const;
			const ids: string[] = [];
			for (const [i, crashPolicy] of policies.entries()) {
				const actor = await engine.api.createActor({
					name: "deploy",
					key: `${pool}-${i}`,
					runnerNameSelector: pool,
					crashPolicy,
				});
				ids.push(actor.actorId);
				await a.waitLine(new RegExp(`^fault:started ${actor.actorId} `), 20_000);
			}
			// Only now runner B: the actors were placed on A.
			const rec = new Recorder();
			const applied: Application[] = [];
			const b = makeRunner(engine, pool, {
				...rec.callbacks(),
				canHibernate: () => true,
				hibernation: { commit: "manual" },
				websocket: exactlyOnceHandler(applied, "B"),
			});
			await b.start();
			for (const id of ids) clients.push(await GatewayClient.open(engine, id));
			const sentAt = new Map<string, number>();
			senders = clients.map(async (client, i) => {
				for (let n = 0; !stop; n++) {
					const id = `m${i}-${n}`;
					sentAt.set(id, Date.now());
					client.send(id);
					await sleep(50);
				}
			});
			await waitFor(
				() => clients.every((c) => c.acked().length >= 10),
				"answers from A before the deploy",
				20_000,
			);
			const restoredBefore = b.webSocketMetrics.restored;

			const termAt = Date.now();
			a.child.kill("SIGTERM");
			const exit = await Promise.race([a.exited, sleep(DRAIN_DEADLINE_MS + 15_000).then(() => undefined)]);
			expect(exit, `A did not exit; output:\n${a.output().slice(-3000)}`).toBeDefined();
			const drainMs = exit!.at - termAt;
			await waitFor(
				() => ids.every((id) => b.getActor(id)?.state === "running"),
				"every actor running on B",
				60_000,
			);
			await sleep(2_000);
			stop = true;
			await Promise.all(senders);
			// Every message must be answered; what is still unanswered after 20 s is reported below.
			await waitFor(
				() => clients.every((c) => c.acked().length >= c.sent.length),
				"an answer to every message",
				20_000,
			).catch(() => undefined);
			await settled(() => applied.length, 1_000, 10_000);

			const onA = a.lines
				.filter((l) => l.startsWith("fault:applied "))
				.map((l) => {
					const [, actorId, id, count] = l.split(" ");
					return { actorId: actorId!, id: id!, count: Number(count), where: "A" };
				});
			const all = [...onA, ...applied];
			const appliedTwice = duplicates(all.map((x) => `${x.actorId}/${x.id}`));
			const sent = clients.reduce((n, c) => n + c.sent.length, 0);
			const acked = clients.reduce((n, c) => n + c.acked().length, 0);
			const sentDuring = [...sentAt.values()].filter((t) => t >= termAt).length;
			const problems: string[] = [];
			for (const [i, actorId] of ids.entries()) {
				const client = clients[i]!;
				if (duplicates(client.acked()).length > 0)
					problems.push(`${actorId}: answered twice ${duplicates(client.acked())}`);
				for (const id of client.sent.filter((x) => !client.acked().includes(x))) {
					const [marker] = await b.kvGet(actorId, [appliedKey(id)]);
					const where = a.output().includes(` ${id} `)
						? "A"
						: applied.some((x) => x.id === id)
							? "B"
							: "neither";
					problems.push(
						`${actorId}: ${id} never answered (marker in KV: ${marker !== null}, applied line on ${where})`,
					);
				}
				const markers = await b.kvListPrefix(actorId, utf8Encode("applied/"));
				const [counter] = await b.kvGet(actorId, [COUNTER_KEY]);
				const count = Number(counter ? utf8Decode(counter) : "0");
				if (markers.length !== client.sent.length || count !== client.sent.length)
					problems.push(
						`${actorId}: sent ${client.sent.length}, markers ${markers.length}, counter ${count}`,
					);
			}
			const stops = a.lines.filter((l) => l.startsWith("fault:stopped "));
			const progress = a.lines.filter((l) => l.startsWith("drain remaining="));
			const restored = b.webSocketMetrics.restored - restoredBefore;
			console.log(
				`graceful deploy: sent ${sent} (${sentDuring} after SIGTERM), acknowledged ${acked}, applied ${all.length} ` +
					`(${onA.length} on A, ${applied.length} on B), duplicates ${appliedTwice.length}, ` +
					`A exit ${exit!.code} after ${drainMs} ms (budget ${DRAIN_DEADLINE_MS}), progress lines ${progress.length} ` +
					`[${progress.join("; ")}], A stops [${stops.map((l) => l.split(" ").slice(2).join(" ")).join("; ")}], ` +
					`B restored ${restored} sockets, B starts ${rec.starts.length}, client closes ${clients.filter((c) => c.closed).length}, ` +
					`moved to B: ${policies.map((p, i) => `${p} (generation ${b.getActor(ids[i]!)?.generation})`).join(", ")}`,
			);
			expect(problems).toEqual([]);
			expect(appliedTwice).toEqual([]);
			expect(exit!.code).toBe(0);
			expect(drainMs).toBeLessThan(DRAIN_DEADLINE_MS);
			expect(a.output()).not.toMatch(/drain deadline passed/);
			expect(progress.length).toBeGreaterThanOrEqual(1);
			expect(stops).toHaveLength(ids.length);
			expect(a.lines).toContain("fault:shutdown");
			expect(restored).toBe(ids.length);
			expect(clients.map((c) => c.closed)).toEqual(clients.map(() => undefined));
			expect(sentDuring).toBeGreaterThan(0);
			expect(duplicates(rec.starts.map((s) => `${s.actorId}:${s.generation}`))).toEqual([]);
		} finally {
			stop = true;
			await Promise.allSettled(senders);
			for (const client of clients) client.close();
			if (a.child.exitCode === null) a.child.kill("SIGKILL");
		}
	}, 180_000);
});
