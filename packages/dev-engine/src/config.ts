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

/** Builds the engine's JSON config: loopback listeners, file-system storage, telemetry off. */
export function buildEngineConfig(
	host: string,
	ports: EnginePorts,
	dataDir: string,
): Record<string, unknown> {
	return {
		telemetry: { enabled: false },
		file_system: { path: dataDir },
		guard: { host, port: ports.guard },
		api_peer: { host, port: ports.apiPeer },
		metrics: { host, port: ports.metrics },
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
