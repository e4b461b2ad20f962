import { writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Ports used by one engine. */
export interface EnginePorts {
	/** Public port: API, gateway, runner WebSocket, `/health`. */
	guard: number;
	/** Internal peer API port. */
	apiPeer: number;
	/** Prometheus metrics port. */
	metrics: number;
}

/** Host part of a URL that reaches a listener bound to `host` (wildcards map to loopback, IPv6 gets brackets). */
export function urlHost(host: string): string {
	const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
	return reachable.includes(":") ? `[${reachable}]` : reachable;
}

/**
 * Builds the engine's JSON config: loopback listeners, file-system storage, telemetry off, and a
 * one-datacenter topology. Without the topology the engine assumes its public URL is
 * http://127.0.0.1:6420 and its peer URL http://127.0.0.1:6421 whatever the ports (e.g.
 * `GET /datacenters` would send clients to port 6420, possibly another engine).
 *
 * `runtime.worker_cpu_max` is raised: the engine's workflow worker otherwise sheds load whenever the *machine's* CPU
 * is busy, and on a small development machine running tests next to the engine, actor creation, wakes and
 * reschedules then stall for 30 s or more.
 */
export function buildEngineConfig(
	host: string,
	ports: EnginePorts,
	dataDir: string,
): Record<string, unknown> {
	const reachable = urlHost(host);
	return {
		telemetry: { enabled: false },
		runtime: { worker_cpu_max: 10_000 },
		file_system: { path: dataDir },
		guard: { host, port: ports.guard },
		api_peer: { host, port: ports.apiPeer },
		metrics: { host, port: ports.metrics },
		topology: {
			datacenter_label: 1,
			datacenters: {
				default: {
					datacenter_label: 1,
					is_leader: true,
					public_url: `http://${reachable}:${ports.guard}`,
					peer_url: `http://${reachable}:${ports.apiPeer}`,
				},
			},
		},
	};
}

/** Writes the config as `engine.json` into `configDir` and returns its path. */
export async function writeEngineConfig(
	configDir: string,
	host: string,
	ports: EnginePorts,
	dataDir: string,
): Promise<string> {
	const path = join(configDir, "engine.json");
	await writeFile(path, `${JSON.stringify(buildEngineConfig(host, ports, dataDir), null, 2)}\n`, {
		mode: 0o600,
	});
	return path;
}
