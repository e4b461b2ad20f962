#!/usr/bin/env node
/**
 * `npm run bench`: starts one real engine and measures, against it, our runner on Node, Bun and Deno, the reference
 * `@rivetkit/engine-runner@2.2.1` and a protocol-level floor, each in its own process. Light sessions (HTTP, WS,
 * start and wake latency) are repeated in fresh processes, heavy ones (idle actors, many open sockets) follow. Then,
 * with the real engine stopped, memory at full scale (1,000 idle actors, 10,000 hibernatable sockets) is measured
 * against a protocol fake engine (`scale.mjs`), which the real engine is far too slow to reach here. Writes
 * `bench/RESULTS.md` and prints it. Exits non-zero only if nothing could be measured.
 *
 * Needs the workspace built (`npm run bench` at the root builds it through turbo first).
 *
 * @module
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { RUNNERS_UNDER_TEST, startRunner } from "./child.mjs";
import { startBenchEngine } from "./engine.mjs";
import { describeMachine, load } from "./machine.mjs";
import { fitHeavy, loadParams } from "./params.mjs";
import { BENCH_DIR } from "./paths.mjs";
import { httpPhase, idleActorsPhase, socketsPhase, startPhase, wakePhase, wsPhase } from "./phases.mjs";
import { aggregate, renderReport } from "./report.mjs";
import { scalePhase } from "./scale.mjs";
import { median } from "./stats.mjs";

/** Hard stop for the whole bench: it never runs unbounded. */
const OVERALL_TIMEOUT_MS = 20 * 60_000;

const LIGHT = [
	["http", httpPhase],
	["ws", wsPhase],
	["start", startPhase],
	["wake", wakePhase],
];
const HEAVY = [
	["idle actors", idleActorsPhase],
	["sockets", socketsPhase],
];

const log = (line) => process.stdout.write(`${line}\n`);

async function main() {
	const p = loadParams();
	const only = process.env.BENCH_RUNNERS?.split(",").filter(Boolean);
	const runners = RUNNERS_UNDER_TEST.filter((r) => !only || only.includes(r.id));
	const started = performance.now();
	const loads = { start: load(), end: [] };
	const machine = describeMachine();
	log(
		`bench: ${machine.cpu}, ${machine.cores} cores; load ${loads.start.join(" ")}; ${runners.length} runners`,
	);
	const engine = await startBenchEngine();
	log(`engine ${engine.version} at ${engine.endpoint}`);

	const light = Object.fromEntries(runners.map((r) => [r.id, []]));
	const heavy = Object.fromEntries(runners.map((r) => [r.id, []]));
	const failures = [];
	let sessionCounter = 0;

	/** One runner process: runs `phases` in order; a failing phase is recorded and the others still run. */
	const session = async (spec, kind, phases, run, p) => {
		sessionCounter++;
		const runnerName = `bench-${spec.id}-${kind}${run}-${sessionCounter}-${Math.random().toString(36).slice(2, 6)}`;
		await engine.api.upsertRunnerConfig(runnerName);
		const figures = {};
		let child;
		try {
			child = await startRunner(spec, { endpoint: engine.endpoint, runnerName, totalSlots: 100_000 });
			const ctx = { engine, child, runnerName, p, log };
			for (const [name, phase] of phases) {
				const t0 = performance.now();
				try {
					Object.assign(figures, await phase(ctx));
					log(
						`  ${spec.id} ${kind} #${run} ${name}: ${describe(figures, name)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
					);
				} catch (error) {
					failures.push(
						`${spec.label}, ${kind} run ${run}, ${name}: ${String(error?.message ?? error).split("\n")[0]}`,
					);
					log(
						`  ${spec.id} ${kind} #${run} ${name}: FAILED ${String(error?.message ?? error).split("\n")[0]}`,
					);
				}
			}
		} catch (error) {
			failures.push(
				`${spec.label}, ${kind} run ${run}: runner did not start: ${String(error?.message ?? error).split("\n")[0]}`,
			);
			log(`  ${spec.id}: runner did not start: ${error?.message ?? error}`);
		} finally {
			await child?.stop();
		}
		return figures;
	};

	let heavyP = p;
	try {
		for (let run = 1; run <= p.repeats; run++) {
			// Rotate the order so slow drift of the shared machine does not always hit the same runner.
			const order = runners.map((_, i) => runners[(i + run - 1) % runners.length]);
			for (const spec of order) light[spec.id].push(await session(spec, "light", LIGHT, run, p));
		}
		const all = Object.values(light).flat();
		const observed = (key) => {
			const values = all.map((f) => f[key]).filter(Number.isFinite);
			return values.length ? median(values) : Number.NaN;
		};
		const leftS = p.budgetS - (performance.now() - started) / 1000;
		const fit = fitHeavy(p, leftS, runners.length, observed("openRate"), observed("createMs"));
		heavyP = { ...p, manySockets: fit.manySockets, idleActors: fit.idleActors, scaledToBudget: fit.scaled };
		log(
			`heavy sessions: ${fit.manySockets} sockets, ${fit.idleActors} idle actors per runner (${Math.round(leftS)} s of budget left; engine opened ${Math.round(observed("openRate"))} sockets/s, created an actor in ${Math.round(observed("createMs"))} ms)`,
		);
		for (let run = 1; run <= p.heavyRepeats; run++) {
			for (const spec of runners) heavy[spec.id].push(await session(spec, "heavy", HEAVY, run, heavyP));
		}
	} finally {
		await engine.stop();
	}

	// Memory at full scale, against the protocol fake engine (the real one is stopped: it no longer competes for CPU).
	const scale = Object.fromEntries(runners.map((r) => [r.id, []]));
	log(
		`memory at full scale (protocol fake engine): ${p.scaleActors} idle actors, ${p.scaleSockets} hibernatable sockets`,
	);
	for (const spec of runners) {
		try {
			const f = await scalePhase(spec, p, log);
			scale[spec.id].push(f);
			log(`  ${spec.id} full scale: ${describe(f, "full scale")} (${f.fakePhaseS.toFixed(1)} s)`);
		} catch (error) {
			const why = String(error?.message ?? error).split("\n")[0];
			failures.push(`${spec.label}, memory at full scale (fake engine): ${why}`);
			log(`  ${spec.id} full scale: FAILED ${why}`);
		}
	}

	loads.end = load();
	const runs = Object.fromEntries(
		runners.map((r) => [r.id, [...light[r.id], ...heavy[r.id], ...scale[r.id]]]),
	);
	const summary = aggregate(runs);
	const runCounts = Object.fromEntries(
		runners.map((r) => [
			r.id,
			`${light[r.id].length} light + ${heavy[r.id].length} heavy sessions (real engine), ${scale[r.id].length} full-scale memory session (fake engine)`,
		]),
	);
	const report = renderReport({
		summary,
		runners,
		machine,
		engine,
		p: heavyP,
		loads,
		durationS: (performance.now() - started) / 1000,
		failures,
		runCounts,
	});
	const path = join(BENCH_DIR, "RESULTS.md");
	await writeFile(path, report);
	log(`\n${report}`);
	log(`written to ${path}`);
	const measured = Object.values(summary).some((figures) => Object.values(figures).some(Boolean));
	return measured ? 0 : 1;
}

/** A one-line summary of what a phase just measured. */
function describe(figures, phase) {
	const pick = {
		http: ["httpCpuUs", "httpRps"],
		ws: ["wsCpuUs", "wsMps"],
		start: ["startMs"],
		wake: ["wakeMs"],
		"idle actors": ["idleHeapPerActor", "idleRssPerActor"],
		sockets: ["scale1CpuUs", "scaleManyCpuUs", "hibHeapPerSocket", "hibRssPerSocket"],
		"full scale": [
			"fakeIdleDataPerActor",
			"fakeIdleHeapPerActor",
			"fakeIdleRssPerActor",
			"fakeIdleYoungPerActor",
			"fakeHibHeapPerSocket",
			"fakeHibRssPerSocket",
			"fakeHibYoungPerSocket",
			"fakeCpu1Us",
			"fakeCpuMidUs",
			"fakeCpuAllUs",
			"fakeHttpCpuUs",
			"fetchObjectsUs",
			"fakeHttpPacedCpuUs",
		],
	}[phase];
	return pick.map((key) => `${key}=${Math.round(figures[key] * 10) / 10}`).join(" ");
}

const timer = setTimeout(() => {
	process.stderr.write("bench: overall time limit reached, giving up\n");
	process.exit(2);
}, OVERALL_TIMEOUT_MS);
timer.unref();

main().then(
	(code) => {
		process.exitCode = code;
	},
	(error) => {
		process.stderr.write(`bench failed: ${error?.stack ?? error}\n`);
		process.exitCode = 1;
	},
);
