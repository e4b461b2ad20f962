/**
 * Workload sizes. The defaults keep `npm run bench` (five runners, light phases repeated three times, heavy phases
 * once) within about ten minutes on a 2-core machine, where the engine, not the runner, limits every rate: it creates
 * about 4 actors/s and opens 20–70 client WebSockets/s there. That is why the idle-actor and open-socket figures are
 * scaled down from 1,000 actors and 10,000 sockets; `BENCH_IDLE_ACTORS` and `BENCH_SOCKETS` set the full sizes
 * (expect several minutes per runner). The full sizes are also measured, for memory only, against a protocol fake engine
 * (`scale.mjs`; `BENCH_SCALE_ACTORS`, `BENCH_SCALE_SOCKETS`). `BENCH_QUICK=1` shrinks everything for a smoke run.
 *
 * @module
 */

/**
 * @typedef {ReturnType<typeof loadParams>} Params
 */

/** The sizes in force, from the defaults and the environment. */
export function loadParams(env = process.env) {
	const quick = env.BENCH_QUICK === "1";
	const int = (name, fallback) => {
		const value = Number(env[name]);
		return Number.isInteger(value) && value > 0 ? value : fallback;
	};
	return {
		quick,
		/** Light sessions (HTTP, WS, start, wake) per runner, each in a fresh runner process. */
		repeats: int("BENCH_REPEATS", quick ? 1 : 3),
		/** Heavy sessions (idle actors, open sockets) per runner. */
		heavyRepeats: int("BENCH_HEAVY_REPEATS", 1),
		httpConcurrency: 32,
		httpWarmup: quick ? 40 : 48,
		httpRequests: quick ? 100 : 224,
		wsSockets: 16,
		wsInFlight: 8,
		wsWarmupPerSocket: quick ? 10 : 15,
		wsPerSocket: quick ? 40 : 80,
		startSamples: quick ? 2 : 3,
		wakeSockets: quick ? 20 : 100,
		wakeSettleMs: 500,
		scaleWarmup: quick ? 30 : 50,
		scaleMessages: quick ? 150 : 400,
		manySockets: int("BENCH_SOCKETS", quick ? 100 : 1000),
		openConcurrency: 32,
		idleActors: int("BENCH_IDLE_ACTORS", quick ? 20 : 50),
		createConcurrency: 4,
		/**
		 * Memory at full scale (`scale.mjs`), measured against the protocol fake engine: idle actors, and hibernatable
		 * sockets open on one actor, after a warm-up of `scaleWarmActors` actors and `scaleWarmSockets` sockets.
		 */
		scaleActors: int("BENCH_SCALE_ACTORS", quick ? 200 : 1000),
		scaleSockets: int("BENCH_SCALE_SOCKETS", quick ? 2000 : 10_000),
		/** Sockets open during the middle per-message CPU measurement of the full-scale phase. */
		scaleCpuSockets: quick ? 200 : 1000,
		/** Messages echoed (one at a time) per round of each CPU measurement of the full-scale phase (three rounds after
		 * half as many of warm-up): the fake answers fast. */
		scaleFakeMessages: quick ? 300 : 2000,
		/**
		 * Runner CPU per tunnelled HTTP request against the protocol fake engine (`http-cpu.mjs`): requests sent
		 * `fakeHttpInFlight` at a time (three rounds, after as many warm-up requests), then `fakeHttpPacedRequests`
		 * one at a time, `fakeHttpGapMs` apart (after 100 warm-up requests).
		 */
		fakeHttpRequests: quick ? 1000 : 5000,
		fakeHttpInFlight: 8,
		fakeHttpPacedRequests: quick ? 150 : 500,
		fakeHttpGapMs: 4,
		scaleWarmActors: 50,
		scaleWarmSockets: 100,
		/** Socket opens sent to the runner before waiting for all of them to be answered. */
		scaleOpenBatch: 250,
		/**
		 * Seconds the whole measurement may take (setup and build excluded). The light sessions run in full; the heavy
		 * sessions then get what is left, and their sizes shrink (down to 200 sockets and 30 actors) to fit, using the
		 * socket-open and actor-create rates seen in the light sessions.
		 */
		budgetS: int("BENCH_BUDGET_S", quick ? 240 : 380),
	};
}

/**
 * Sizes of the heavy sessions that fit the time left: `leftS` seconds for all of them, engine rates as observed
 * (client sockets opened per second, one actor create in ms). Never above the configured sizes.
 * @param {Params} p
 * @returns {{ manySockets: number, idleActors: number, scaled: boolean }}
 */
export function fitHeavy(p, leftS, runners, openRate, createMs) {
	const perRunnerS = Math.max(20, leftS) / (runners * p.heavyRepeats);
	// Ours writes each hibernatable socket to KV before answering, and the engine slows as sockets pile up: the rate
	// seen while opening 100 sockets in the wake phase is about twice what a long run of opens gets.
	const sockets = Number.isFinite(openRate) ? Math.round(openRate * perRunnerS * 0.25) : p.manySockets;
	const actors = Number.isFinite(createMs) ? Math.round((1000 / createMs) * perRunnerS * 0.2) : p.idleActors;
	const manySockets = Math.max(
		Math.min(200, p.manySockets),
		Math.min(p.manySockets, Math.floor(sockets / 50) * 50),
	);
	const idleActors = Math.max(
		Math.min(30, p.idleActors),
		Math.min(p.idleActors, Math.floor(actors / 10) * 10),
	);
	return { manySockets, idleActors, scaled: manySockets < p.manySockets || idleActors < p.idleActors };
}
