async function answersOk(url: string): Promise<boolean> {
	try {
		const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
		const body = (await res.json()) as { status?: unknown };
		return res.ok && (body.status === "ok" || !url.endsWith("/health"));
	} catch {
		return false;
	}
}

/**
 * `/health` answers ok before the engine can serve API calls: for a few hundred ms the "default"
 * namespace is missing (400) and writes fail with 500 until the epoxy replica is configured. A key
 * lookup goes through both, has no side effects, and only succeeds once the engine is usable.
 */
export async function engineReady(endpoint: string): Promise<boolean> {
	if (!(await answersOk(`${endpoint}/health`))) return false;
	return answersOk(`${endpoint}/actors?namespace=default&name=x-dev-engine-probe&key=ready`);
}

/** Maps an engine service name from a log line (e.g. "guard") to a port role. */
export function roleOfService(service: string): string | undefined {
	if (service.includes("guard")) return "guard";
	if (service.includes("peer")) return "apiPeer";
	if (service.includes("metric")) return "metrics";
	return undefined;
}
