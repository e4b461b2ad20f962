/**
 * The "what the targets leave room for" section of `RESULTS.md`: for the CPU and RSS targets that no runner on this
 * stack can be expected to meet, the arithmetic from this run's own figures, so that a miss can be told from a
 * shortfall of the runner.
 *
 * @module
 */
import { fmt } from "./stats.mjs";

/**
 * Markdown lines, one bullet per argument whose figures the run has.
 * @param {Record<string, Record<string, { median: number } | null | undefined>>} summary runner id → figure →
 *   summary (in the report's units: µs, KiB)
 * @param {{ fakeHttpInFlight: number }} p
 * @returns {string[]}
 */
export function limitsSection(summary, p) {
	const ours = summary["ours-node"] ?? {};
	const ref = summary.reference ?? {};
	const floor = summary.floor ?? {};
	const m = (figures, key) => figures[key]?.median ?? Number.NaN;
	const bullets = [];

	const wsFloor = m(floor, "wsCpuUs") / m(ref, "wsCpuUs");
	if (Number.isFinite(wsFloor))
		bullets.push(
			`- **CPU per WS message ≤ ⅓ of the reference**: the floor, which only decodes each frame and encodes the echo with the protocol codec, spends ${fmt(wsFloor)}× the reference per message (${fmt(m(floor, "wsCpuUs"))} µs against ${fmt(m(ref, "wsCpuUs"))} µs, real engine)${wsFloor > 1 / 3 ? ": a third is below what the codec and the socket alone cost." : "."}`,
		);

	const floorHttp = m(floor, "fakeHttpCpuUs");
	const fetchObjects = m(ours, "fetchObjectsUs");
	const third = m(ref, "fakeHttpCpuUs") / 3;
	const least = floorHttp + fetchObjects;
	if (Number.isFinite(least) && Number.isFinite(third))
		bullets.push(
			`- **CPU per HTTP request ≤ ⅓ of the reference, and within 2× of the floor**: a runner whose handler gets a \`Request\` and returns a \`Response\` does at least the floor's work (${fmt(floorHttp)} µs per request, protocol fake engine, ${p.fakeHttpInFlight} in flight) plus those Fetch API objects (${fmt(fetchObjects)} µs on Node, measured in the runner's process): ${fmt(least)} µs, against a third of the reference's ${fmt(m(ref, "fakeHttpCpuUs"))} µs (${fmt(third)} µs) and twice the floor (${fmt(2 * floorHttp)} µs)${least > third && least > 2 * floorHttp ? ": both limits are below that sum" : ""}. Ours spends ${fmt(m(ours, "fakeHttpCpuUs"))} µs; the rest beyond the Fetch API objects is judged in its own row above.`,
		);

	const youngActor = m(ours, "fakeIdleYoungPerActor");
	const youngActorRef = m(ref, "fakeIdleYoungPerActor");
	const dataRatio = m(ours, "fakeIdleDataPerActor") / m(ref, "fakeIdleDataPerActor");
	const heapSocketRatio = m(ours, "fakeHibHeapPerSocket") / m(ref, "fakeHibHeapPerSocket");
	if (Number.isFinite(youngActorRef) && Number.isFinite(dataRatio))
		bullets.push(
			`- **RSS ≤ ½ of the reference**: what each runner holds is its heap data, ${fmt(dataRatio)}× the reference's per idle actor and ${fmt(heapSocketRatio)}× per socket. RSS also counts V8's young generation, which grows while thousands of actors or sockets are set up (per idle actor: ${fmt(youngActor)} KiB for ours, ${fmt(youngActorRef)} KiB for the reference), and the memory the allocator keeps after the set-up's garbage is freed; neither is retained by the runner, and both depend on the allocation rate and the runtime's heuristics.`,
		);
	bullets.push(
		"- **Bun and Deno within 1.5× of Node**: Bun's heap figure is JavaScriptCore's whole heap, not comparable byte for byte with V8's heap used minus compiled code; Deno's V8 grows its young generation more than Node's under the same load (its own row), which shows in its RSS figures. Figures at the scaled-down real-engine sizes (tens of actors, hundreds of sockets) are only good to a few KiB.",
	);
	return ["## What the targets leave room for (this run's figures)", "", ...bullets, ""];
}
