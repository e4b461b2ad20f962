/**
 * Runner CPU per tunnelled HTTP request, against the protocol fake engine (`fake-http.mjs`), which answers at once and
 * competes for no CPU while the runner works, unlike the real engine on a 2-core machine. Two figures per runner, in a
 * runner process of its own:
 *
 * - **in flight**: `fakeHttpRequests` requests, `fakeHttpInFlight` at a time, after as many of warm-up, three times
 *   (the median is the figure): frames arrive together, so this is the runner's work per request with little
 *   per-wake-up cost;
 * - **paced**: `fakeHttpPacedRequests` requests one at a time, `fakeHttpGapMs` apart, after 100 such requests of
 *   warm-up (the code is compiled by then): each request wakes the process on its own, as at the real engine's rate
 *   of about a hundred requests a second, so caches and the CPU are cold again each time and every step costs several
 *   times more.
 *
 * For the runners whose handler contract is the Fetch API (ours, the reference), the same process also reports what
 * the Fetch API objects of one request cost in its runtime (`fetchObjects` in `runners/control.mjs`), measured hot:
 * the share of the in-flight figure that no runner honouring that contract can avoid, and the rest, which is the
 * runner's own work (the floor builds no such objects: its share is 0).
 *
 * @module
 */
import { cpuDuring, delay } from "./child.mjs";
import { withFakeEngine } from "./fake-engine.mjs";
import { median } from "./stats.mjs";

/**
 * The HTTP CPU figures of one runner.
 * @param {{ id: string }} spec a runner of `child.mjs`
 * @param {import("./params.mjs").Params} p
 * @returns {Promise<{ fakeHttpCpuUs: number, fetchObjectsUs: number, fakeHttpOwnCpuUs: number,
 *   fakeHttpPacedCpuUs: number }>}
 */
export function httpCpuPhase(spec, p) {
	return withFakeEngine(spec, `http-${spec.id}`, async (child, engine) => {
		const [actor] = await engine.startActors(1);
		const cpu = async (requests, send) => (await cpuDuring(child, send)) / requests;
		const inFlight = () => engine.requests.load(actor, "/", p.fakeHttpRequests, p.fakeHttpInFlight);
		const paced = async (count = p.fakeHttpPacedRequests) => {
			for (let i = 0; i < count; i++) {
				await engine.requests.request(actor, "/");
				await delay(p.fakeHttpGapMs);
			}
		};
		await inFlight();
		const rounds = [];
		for (let i = 0; i < 3; i++) rounds.push(await cpu(p.fakeHttpRequests, inFlight));
		const fakeHttpCpuUs = median(rounds);
		await paced(100);
		const fakeHttpPacedCpuUs = await cpu(p.fakeHttpPacedRequests, paced);
		const fetchObjectsUs = spec.id === "floor" ? 0 : (await child.call("fetchObjects", 60_000)).us;
		const fakeHttpOwnCpuUs = fakeHttpCpuUs - fetchObjectsUs;
		return { fakeHttpCpuUs, fetchObjectsUs, fakeHttpOwnCpuUs, fakeHttpPacedCpuUs };
	});
}
