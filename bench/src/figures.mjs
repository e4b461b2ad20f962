/**
 * The figures of the report, in table order. `{N}` and `{A}` in a label stand for the many-socket and idle-actor sizes
 * measured against the real engine, `{FN}`, `{FA}` and `{FC}` for the full-scale sizes measured against the protocol fake
 * engine (`scale.mjs`), `{FH}` and `{FG}` for the requests in flight and the gap between paced requests of the HTTP
 * figures measured against it (`http-cpu.mjs`).
 *
 * @module
 */

const KIB = 1 / 1024;

/** A figure where less is better. */
const lower = (key, label, unit, scale) => ({
	key,
	label,
	unit,
	better: "lower",
	...(scale ? { scale } : {}),
});
/** A figure where more is better. */
const higher = (key, label, unit) => ({ key, label, unit, better: "higher" });

/**
 * Every figure, in table order. `better` says which direction wins; `scale` converts the raw unit.
 * @type {Array<{ key: string, label: string, unit: string, better: "lower" | "higher", scale?: number }>}
 */
export const FIGURES = [
	lower("httpCpuUs", "Runner CPU per tunnelled HTTP request", "µs"),
	higher("httpRps", "HTTP throughput, 32 in flight", "req/s"),
	lower("wsCpuUs", "Runner CPU per echoed WS message (16 sockets × 8 in flight)", "µs"),
	higher("wsMps", "WS echo throughput (16 × 8)", "msg/s"),
	lower("startMs", "Actor start latency (create → first response)", "ms"),
	lower("wakeMs", "Wake latency, sleeping actor with 100 hibernating sockets", "ms"),
	lower("scale1CpuUs", "Runner CPU per WS message, 1 socket open on the actor", "µs"),
	lower("scaleManyCpuUs", "Runner CPU per WS message, {N} sockets open on the actor", "µs"),
	lower("scaleRatio", "… {N} sockets ÷ 1 socket", "×"),
	higher("scale1Mps", "… echo rate during the 1-socket measurement", "msg/s"),
	higher("scaleManyMps", "… echo rate during the {N}-socket measurement", "msg/s"),
	lower("idleHeapPerActor", "Heap used per idle actor ({A} actors), compiled code excluded", "KiB", KIB),
	lower("idleRssPerActor", "RSS per idle actor ({A} actors)", "KiB", KIB),
	lower(
		"hibHeapPerSocket",
		"Heap used per open hibernatable socket ({N}), compiled code excluded",
		"KiB",
		KIB,
	),
	lower("hibRssPerSocket", "RSS per open hibernatable socket ({N})", "KiB", KIB),
	lower(
		"fakeIdleHeapPerActor",
		"Heap used per idle actor ({FA} actors, protocol fake engine), compiled code excluded",
		"KiB",
		KIB,
	),
	lower(
		"fakeIdleDataPerActor",
		"Heap data per idle actor ({FA} actors, protocol fake engine), from heap snapshots (Node only)",
		"KiB",
		KIB,
	),
	lower("fakeIdleRssPerActor", "RSS per idle actor ({FA} actors, protocol fake engine)", "KiB", KIB),
	lower(
		"fakeIdleYoungPerActor",
		"… of which V8's young generation (its resident pages) grew (Node, Deno)",
		"KiB",
		KIB,
	),
	lower(
		"fakeHibHeapPerSocket",
		"Heap used per open hibernatable socket ({FN}, protocol fake engine), compiled code excluded",
		"KiB",
		KIB,
	),
	lower("fakeHibRssPerSocket", "RSS per open hibernatable socket ({FN}, protocol fake engine)", "KiB", KIB),
	lower(
		"fakeHibYoungPerSocket",
		"… of which V8's young generation (its resident pages) grew (Node, Deno)",
		"KiB",
		KIB,
	),
	lower("fakeCpu1Us", "Runner CPU per WS message, 1 socket open (protocol fake engine)", "µs"),
	lower("fakeCpuMidUs", "Runner CPU per WS message, {FC} sockets open (protocol fake engine)", "µs"),
	lower("fakeCpuAllUs", "Runner CPU per WS message, {FN} sockets open (protocol fake engine)", "µs"),
	lower("fakeCpuMidRatio", "… {FC} sockets ÷ 1 socket (protocol fake engine)", "×"),
	lower("fakeCpuAllRatio", "… {FN} sockets ÷ 1 socket (protocol fake engine)", "×"),
	lower("fakeHttpCpuUs", "Runner CPU per HTTP request, {FH} in flight (protocol fake engine)", "µs"),
	lower(
		"fetchObjectsUs",
		"… of which the Fetch API objects of one request (a Request with the gateway's headers, a Response, its body read; measured hot in the runner's runtime; none for the floor)",
		"µs",
	),
	lower("fakeHttpOwnCpuUs", "… the rest: the runner's own work, codec and socket included", "µs"),
	lower(
		"fakeHttpPacedCpuUs",
		"Runner CPU per HTTP request, one at a time every {FG} ms (protocol fake engine)",
		"µs",
	),
];
