/**
 * Turns the per-run numbers into `bench/RESULTS.md`: the figures (median and min–max over the runs), their ratios
 * to the reference and to the floor, and the targets, met or missed.
 *
 * @module
 */
import { FIGURES } from "./figures.mjs";
import { limitsSection } from "./limits.mjs";
import { fmt, summarize } from "./stats.mjs";

/**
 * Medians and spreads per runner and figure.
 * @param {Record<string, Array<Record<string, number>>>} runs runner id → one object of figures per run
 * @returns {Record<string, Record<string, ReturnType<typeof summarize>>>}
 */
export function aggregate(runs) {
	const out = {};
	for (const [id, list] of Object.entries(runs)) {
		out[id] = {};
		for (const figure of FIGURES) {
			const scale = figure.scale ?? 1;
			out[id][figure.key] = summarize(list.map((run) => (run[figure.key] ?? NaN) * scale));
		}
	}
	return out;
}

/** Ratio of two medians; null when either is missing or not positive (an RSS delta can be, after GC returns pages). */
const ratio = (a, b) => (a && b && a.median > 0 && b.median > 0 ? a.median / b.median : null);

function labelOf(figure, p) {
	return figure.label
		.replaceAll("{N}", String(p.manySockets))
		.replaceAll("{A}", String(p.idleActors))
		.replaceAll("{FN}", String(p.scaleSockets))
		.replaceAll("{FA}", String(p.scaleActors))
		.replaceAll("{FC}", String(p.scaleCpuSockets))
		.replaceAll("{FH}", String(p.fakeHttpInFlight))
		.replaceAll("{FG}", String(p.fakeHttpGapMs));
}

/**
 * The target checks, each `{ target, measured, met }` (met null when a figure is missing). The memory targets are
 * judged on the full-scale figures (protocol fake engine; for heap, the data counted in heap snapshots where there
 * are some), and only if those are missing on the scaled-down real-engine ones; each row names the figure it used.
 * @param {ReturnType<typeof aggregate>} summary
 * @param {{ scaleActors: number, scaleSockets: number, scaleCpuSockets: number, idleActors: number,
 *   manySockets: number }} p
 */
export function targets(summary, p) {
	const ours = summary["ours-node"] ?? {};
	const ref = summary.reference ?? {};
	const floor = summary.floor ?? {};
	const rows = [];
	const add = (target, value, limit, unit = "×") =>
		rows.push({
			target,
			measured: value === null ? "—" : `${fmt(value)}${unit}`,
			met: value === null ? null : value <= limit,
		});
	add("CPU per HTTP request ≤ ⅓ of the reference (Node)", ratio(ours.httpCpuUs, ref.httpCpuUs), 1 / 3);
	add("CPU per HTTP request within 2× of the floor (Node)", ratio(ours.httpCpuUs, floor.httpCpuUs), 2);
	add(
		`CPU per HTTP request beyond the Fetch API objects within 2× of the floor (Node, protocol fake engine, ${p.fakeHttpInFlight} in flight)`,
		ratio(ours.fakeHttpOwnCpuUs, floor.fakeHttpCpuUs),
		2,
	);
	add("CPU per WS message ≤ ⅓ of the reference (Node)", ratio(ours.wsCpuUs, ref.wsCpuUs), 1 / 3);
	add("CPU per WS message within 2× of the floor (Node)", ratio(ours.wsCpuUs, floor.wsCpuUs), 2);
	add(
		`CPU per message, ${p.scaleCpuSockets} sockets ÷ 1 socket ≤ 1.2 (Node, judged on the protocol fake engine)`,
		ours.fakeCpuMidRatio?.median ?? null,
		1.2,
	);
	// On the real engine, the two measurements run at different engine paces (the gateway slows as sockets pile up,
	// and a slower round trip makes every message cost more CPU on cold caches), so the ratio moves by half from run
	// to run even for the floor, which keeps no per-socket state at all: shown, not judged.
	const real = ours.scaleRatio?.median;
	rows.push({
		target: `… the same with ${p.manySockets} sockets on the real engine (not judged: the engine's pace differs between the two measurements; the floor, which keeps no per-socket state, shows how much)`,
		measured:
			real === undefined || !Number.isFinite(real)
				? "—"
				: `${fmt(real)}× (floor ${fmt(floor.scaleRatio?.median ?? Number.NaN)}×)`,
		met: null,
	});
	/** Judged on the first of `candidates` ([key, what it measures]) that both ours and the reference have. */
	const memory = (target, candidates) => {
		const found = candidates.find(([key]) => ours[key] && ref[key]) ?? candidates.at(-1);
		add(`${target} (judged on ${found[1]})`, ratio(ours[found[0]], ref[found[0]]), 0.5);
	};
	const fa = `${p.scaleActors} actors, protocol fake engine`;
	const fn = `${p.scaleSockets} sockets, protocol fake engine`;
	const ra = `${p.idleActors} actors, real engine`;
	const rn = `${p.manySockets} sockets, real engine`;
	memory("Heap per idle actor ≤ ½ of the reference", [
		["fakeIdleDataPerActor", `${fa}, heap snapshots`],
		["fakeIdleHeapPerActor", fa],
		["idleHeapPerActor", ra],
	]);
	memory("RSS per idle actor ≤ ½ of the reference", [
		["fakeIdleRssPerActor", fa],
		["idleRssPerActor", ra],
	]);
	memory("Heap per hibernatable socket ≤ ½ of the reference", [
		["fakeHibHeapPerSocket", fn],
		["hibHeapPerSocket", rn],
	]);
	memory("RSS per hibernatable socket ≤ ½ of the reference", [
		["fakeHibRssPerSocket", fn],
		["hibRssPerSocket", rn],
	]);
	for (const id of ["ours-bun", "ours-deno"]) {
		const other = summary[id] ?? {};
		const misses = [];
		let checked = 0;
		for (const figure of FIGURES) {
			const a = other[figure.key];
			const b = ours[figure.key];
			if (!a || !b) continue;
			checked++;
			const r = figure.better === "lower" ? ratio(a, b) : ratio(b, a);
			if (r !== null && r > 1.5) misses.push(`${figure.key} ${fmt(r)}×`);
		}
		rows.push({
			target: `${id === "ours-bun" ? "Bun" : "Deno"} within 1.5× of Node on every figure`,
			measured:
				checked === 0 ? "—" : misses.length === 0 ? `all ${checked} figures` : `over on ${misses.join(", ")}`,
			met: checked === 0 ? null : misses.length === 0,
		});
	}
	return rows;
}

/**
 * The whole report as Markdown.
 * @param {{ summary: ReturnType<typeof aggregate>, runners: Array<{ id: string, label: string }>,
 *   machine: Record<string, unknown>, engine: { version: string }, p: import("./params.mjs").Params,
 *   loads: { start: number[], end: number[] }, durationS: number, failures: string[], runCounts: Record<string, string> }} input
 */
export function renderReport(input) {
	const { summary, runners, machine: m, p } = input;
	const lines = [];
	const row = (cells) => lines.push(`| ${cells.join(" | ")} |`);
	lines.push("# Runner benchmark results", "");
	lines.push(
		"Generated by `npm run bench` (`bench/src/main.mjs`). Every runner ran in its own process against the **same** real",
		"Rivet Engine, one runner at a time, except the rows marked *protocol fake engine* (see Workload). CPU is the",
		"runner process's own user + system time, read inside it with",
		"`process.cpuUsage()` before and after each measured phase (warm-up excluded), divided by the operations of the",
		"phase. Memory is read inside the runner after a full GC, as the growth over a baseline taken just before.",
		`Each cell: median (min–max) over ${p.repeats} runs for the CPU, throughput and latency figures, over ${p.heavyRepeats} for the memory and many-socket figures, over 1 for the full-scale memory figures.`,
		"",
	);
	lines.push("## Machine and versions", "");
	lines.push(
		`- Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM, ${m.os}`,
		`- Runtimes: Node ${m.node}, Bun ${m.bun}, ${m.deno}`,
		`- Engine: rivet-engine ${input.engine.version} (@rivetkit/engine-cli ${m.engineCli}), file-system storage, loopback; ` +
			"`runtime.worker_cpu_max` raised so the engine's workflow worker does not shed load on a busy machine",
		`- Ours: @x/runner-core ${m.ours}; reference: @rivetkit/engine-runner ${m.reference}; floor: @rivetkit/engine-runner-protocol ${m.protocol} + ws`,
		`- Load average (1/5/15 min) at start ${input.loads.start.join(" / ")}, at end ${input.loads.end.join(" / ")}; bench took ${Math.round(input.durationS)} s`,
		"",
	);
	lines.push("## Figures", "");
	row(["Figure", "Unit", ...runners.map((r) => r.label)]);
	row(["---", "---", ...runners.map(() => "---:")]);
	for (const figure of FIGURES) {
		row([
			labelOf(figure, p),
			figure.unit,
			...runners.map((r) => {
				const s = summary[r.id]?.[figure.key];
				return s ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : "—";
			}),
		]);
	}
	lines.push("");
	for (const [base, title] of [
		[
			"reference",
			"Ratio to the reference (median ÷ reference median; below 1 is less for lower-is-better figures)",
		],
		["floor", "Ratio to the floor (median ÷ floor median)"],
	]) {
		lines.push(`## ${title}`, "");
		row(["Figure", ...runners.map((r) => r.label)]);
		row(["---", ...runners.map(() => "---:")]);
		for (const figure of FIGURES) {
			if (figure.key === "scaleRatio") continue;
			row([
				labelOf(figure, p),
				...runners.map((r) => {
					const value = ratio(summary[r.id]?.[figure.key], summary[base]?.[figure.key]);
					return value === null ? "—" : `${fmt(value)}×`;
				}),
			]);
		}
		lines.push("");
	}
	lines.push("## Targets (our runner on Node unless stated)", "");
	row(["Target", "Measured", "Met"]);
	row(["---", "---", "---"]);
	for (const t of targets(summary, p))
		row([t.target, t.measured, t.met === null ? "n/a" : t.met ? "yes" : "**no**"]);
	lines.push("");
	lines.push(...limitsSection(summary, p));
	lines.push("## Workload", "");
	lines.push(
		`- HTTP: \`GET /\` through \`/gateway/{actorId}/\` with Node's fetch (keep-alive), ${p.httpConcurrency} in flight, ${p.httpWarmup} warm-up + ${p.httpRequests} measured requests; the handler answers \`ok\`.`,
		`- WS: ${p.wsSockets} sockets (\`ws\`, subprotocol \`rivet\`), ${p.wsInFlight} messages of 32 bytes in flight on each, ${p.wsSockets * p.wsWarmupPerSocket} warm-up + ${p.wsSockets * p.wsPerSocket} measured echoes.`,
		`- Start latency: median of ${p.startSamples} actors per run, from \`POST /actors\` to the first gateway response.`,
		`- Wake: ${p.wakeSockets} hibernatable sockets each echo one message, the actor asks to sleep, and once the engine reports it asleep one socket sends a message; the figure is send → echo.`,
		`- Many sockets: one socket echoes ${p.scaleMessages} messages one at a time (ping-pong, so each message is one round trip whatever the engine's speed) alone, then again with ${p.manySockets - 1} idle hibernatable sockets open on the same actor; the heap/RSS growth from opening those is the per-socket memory.`,
		`- Idle actors: ${p.idleActors} actors created (${p.createConcurrency} creates in flight) and started on the runner; growth of heap and RSS after GC over the baseline.`,
		`- **Scaled down** from 1,000 idle actors and 10,000 hibernatable sockets to ${p.idleActors} and ${p.manySockets}${p.scaledToBudget ? " (shrunk further to fit the time budget, from the engine rates seen in this run)" : ""}: on a 2-core machine the engine creates about 4 actors/s and opens 20–80 client WebSockets/s, and ours writes each hibernatable socket to the actor's KV before answering the open, so the full sizes take several minutes per runner. \`BENCH_IDLE_ACTORS=1000 BENCH_SOCKETS=10000 BENCH_BUDGET_S=3600 npm run bench\` runs them.`,
		`- **Memory at full scale, protocol fake engine**: the real engine cannot create actors or open sockets fast enough here to reach ${p.scaleActors} idle actors and ${p.scaleSockets} hibernatable sockets per runner, so those sizes are measured against a small fake engine in the bench process (\`src/fake-engine.mjs\`) that speaks runner protocol v7 through \`@rivetkit/engine-runner-protocol\`: it answers the runner's init, pings, KV requests (in memory) and events as the engine does, starts actors with \`CommandStartActor\` and opens hibernatable sockets on one actor with \`ToClientWebSocketOpen\` (the headers the real gateway forwards, random request ids), ${p.scaleOpenBatch} at a time, each answered by the runner (ours writes each one to the actor's KV first). After a warm-up of ${p.scaleWarmActors} actors and ${p.scaleWarmSockets} sockets: GC baseline, ${p.scaleActors} actors started, GC (per actor); one probe socket echoes ${p.scaleFakeMessages} messages one at a time (ping-pong) alone, again with ${p.scaleCpuSockets} sockets open on the actor and again with all ${p.scaleSockets} open (runner CPU per message at each size: the median of three rounds, after ${p.scaleFakeMessages / 2} unmeasured echoes, so that code V8 recompiles after the opens and their GC does not count); GC after the ${p.scaleSockets} are open (per socket); then one message is echoed and acknowledged on the first and the last socket. The memory targets above are judged on these figures.`,
		`- **HTTP CPU, protocol fake engine**: the same fake sends tunnelled \`GET /\` requests the way the real gateway does (\`ToClientRequestStart\` with the headers Node's fetch sends through it, the whole body, a random request id) and waits for each \`ToServerResponseStart\`; it answers at once and competes for no CPU while the runner works. ${p.fakeHttpRequests} requests ${p.fakeHttpInFlight} at a time (frames arrive together: the runner's work per request, with little cost per wake-up), after as many warm-up requests, three times (the median is the figure), then ${p.fakeHttpPacedRequests} one at a time ${p.fakeHttpGapMs} ms apart after 100 more (each request wakes the process alone, as at the real engine's rate of about a hundred a second, so every step runs on cold caches and costs several times more), in a runner process of its own. For the runners whose handler contract is the Fetch API (ours, the reference), the same process then times 5,000 rounds of the Fetch API objects one request needs (a \`Request\` with those headers, \`new Response("ok")\`, its body read) in a loop: the share of the in-flight figure no runner that hands its handler a \`Request\` and takes a \`Response\` can avoid; the rest is the runner's own work.`,
		`- Memory: heap used after a full GC, minus the V8 spaces that hold compiled code (Node, Deno; Bun reports its whole JSC heap), after a warm-up of 10 actors / 20 sockets, is the primary figure. At these sizes it is still only good to a few KiB per actor, and Bun's JSC heap is not comparable byte for byte with V8's. An RSS delta is dominated by how the allocator keeps or returns pages and can even be negative; at full scale it includes V8's young generation, which grows (from 1 to 32 MiB on Node 20) when many objects survive its scavenges, as when thousands of sockets are set up at once, whatever the runner retains, and its pages count once touched; that growth is shown on its own line under each full-scale RSS figure. For the Node runners, a second short pass in a new process counts the heap data per idle actor exactly: the bytes of every object that grew between V8 heap snapshots taken before and after the ${p.scaleActors} actors start (\`src/heap-diff.mjs\` lists them by kind); the idle-actor heap target is judged on it.`,
		"- Hibernation: ours persists each hibernatable socket in the actor's KV (default store, debounced index, acknowledged after persisting); the reference app keeps the metadata in process memory and acknowledges every message at once; the floor acknowledges at once and persists nothing.",
		"",
	);
	lines.push("## Runs", "");
	for (const r of runners) lines.push(`- ${r.label}: ${input.runCounts[r.id] ?? "no runs"}`);
	if (input.failures.length > 0) {
		lines.push("", "Failures (the figure is missing from that run):", "");
		for (const f of input.failures) lines.push(`- ${f}`);
	}
	lines.push("");
	return lines.join("\n");
}
