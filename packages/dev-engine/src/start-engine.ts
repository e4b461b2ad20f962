import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createEngineApi } from "./api.ts";
import { type EnginePorts, urlHost, writeEngineConfig } from "./config.ts";
import { createEngineHandle, type EngineHandle } from "./engine-handle.ts";
import { type EngineProcess, launchEngine, PortConflictError } from "./engine-process.ts";
import { DevEngineError } from "./errors.ts";
import { LogRing } from "./log-buffer.ts";
import { assertPortFree, findFreePorts } from "./ports.ts";
import { prepareDataDir, resolveBinary } from "./preflight.ts";

/** Options of {@link startEngine}. */
export interface StartEngineOptions {
	/** Public (guard) port. Default: a free loopback port. */
	guardPort?: number;
	/** Internal peer API port. Default: a free loopback port. */
	apiPeerPort?: number;
	/** Metrics port. Default: a free loopback port. */
	metricsPort?: number;
	/** Interface every listener binds to. Default: "127.0.0.1". */
	host?: string;
	/** Storage folder, created if needed and kept on stop. Default: a temp folder removed on stop. */
	dataDir?: string;
	/** Namespace of `handle.api`; created at start unless "default". Default: "default". */
	namespace?: string;
	/** Milliseconds to wait for `/health`. Default: 20000. */
	startTimeoutMs?: number;
	/** Engine binary. Default: `getEnginePath()` of `@rivetkit/engine-cli` (honours RIVET_ENGINE_BINARY). */
	binaryPath?: string;
	/** Engine log filter, passed as RUST_LOG (e.g. "warn", "debug"). Default: the engine's default (info). */
	logLevel?: string;
	/** Extra environment variables for the engine (merged over the current environment). */
	env?: Record<string, string>;
	/** Called with every line the engine prints (stdout and stderr). */
	onLog?: (line: string) => void;
}

const ROLES = ["guard", "apiPeer", "metrics"] as const;
type Role = (typeof ROLES)[number];

function checkPortOption(role: Role, port: number | undefined): void {
	if (port === undefined) return;
	if (!Number.isInteger(port) || port < 1 || port > 65535) {
		throw new DevEngineError("INVALID_OPTIONS", `${role} port must be an integer in 1..65535, got ${port}`);
	}
}

/** Fills in free ports for every role without a fixed port. */
async function pickPorts(host: string, fixed: Partial<EnginePorts>): Promise<EnginePorts> {
	const taken = new Set(Object.values(fixed));
	const missing = ROLES.filter((role) => fixed[role] === undefined);
	const free = (await findFreePorts(missing.length + 3, host)).filter((port) => !taken.has(port));
	const ports = { ...fixed };
	for (const role of missing) ports[role] = free.shift();
	return ports as EnginePorts;
}

/**
 * Starts a real Rivet Engine on loopback and resolves once `/health` answers ok. Never leaves a
 * process or temp folder behind on failure; the engine is watched so it cannot outlive this process.
 * @throws DevEngineError with code BINARY_NOT_FOUND, PORT_IN_USE, DATA_DIR_UNUSABLE, EXITED_EARLY,
 *   START_TIMEOUT, INVALID_OPTIONS or API_ERROR.
 */
export async function startEngine(options: StartEngineOptions = {}): Promise<EngineHandle> {
	const host = options.host ?? "127.0.0.1";
	const namespace = options.namespace ?? "default";
	const fixed: Partial<EnginePorts> = {};
	if (options.guardPort !== undefined) fixed.guard = options.guardPort;
	if (options.apiPeerPort !== undefined) fixed.apiPeer = options.apiPeerPort;
	if (options.metricsPort !== undefined) fixed.metrics = options.metricsPort;
	for (const role of ROLES) checkPortOption(role, fixed[role]);
	if (new Set(Object.values(fixed)).size !== Object.keys(fixed).length) {
		throw new DevEngineError("INVALID_OPTIONS", "guard, api-peer and metrics ports must differ");
	}

	const binaryPath = await resolveBinary(options.binaryPath);
	for (const role of ROLES) {
		const port = fixed[role];
		if (port !== undefined) await assertPortFree(host, port, role);
	}
	const userDataDir = options.dataDir === undefined ? undefined : resolve(options.dataDir);
	if (userDataDir !== undefined) await prepareDataDir(userDataDir);

	const tempDirs: string[] = [];
	let proc: EngineProcess | undefined;
	try {
		const configDir = await mkdtemp(join(tmpdir(), "x-dev-engine-config-"));
		tempDirs.push(configDir);
		const dataDir = userDataDir ?? (await mkdtemp(join(tmpdir(), "x-dev-engine-")));
		if (userDataDir === undefined) tempDirs.push(dataDir);

		const ring = new LogRing(200);
		const level = options.logLevel ?? options.env?.RUST_LOG ?? process.env.RUST_LOG;
		const env = {
			// The workflow worker polls every 500 ms instead of its default: on a busy development machine new actor
			// workflows are otherwise picked up late (tens of seconds). Any value in the environment or options wins.
			RIVET__RUNTIME__WORKER_POLL_INTERVAL_MS: "500",
			...process.env,
			...options.env,
			...(options.logLevel ? { RUST_LOG: options.logLevel } : {}),
		};
		const launch = async (ports: EnginePorts): Promise<EngineProcess> => {
			const configPath = await writeEngineConfig(configDir, host, ports, dataDir);
			return launchEngine({
				binaryPath,
				configPath,
				env,
				endpoint: `http://${urlHost(host)}:${ports.guard}`,
				ports: { ...ports },
				startTimeoutMs: options.startTimeoutMs ?? 20_000,
				infoLogs: level === undefined || /^(info|debug|trace)$/i.test(level),
				ring,
				tempDirs,
				onLog: options.onLog,
			});
		};

		// Ports picked by us can be grabbed by someone else before the engine binds them: retry then.
		const autoRoles = ROLES.filter((role) => fixed[role] === undefined);
		let ports: EnginePorts;
		for (let attempt = 1; ; attempt++) {
			ports = await pickPorts(host, fixed);
			try {
				proc = await launch(ports);
				break;
			} catch (err) {
				const retry =
					err instanceof PortConflictError &&
					attempt < 3 &&
					autoRoles.length > 0 &&
					(err.role === undefined || autoRoles.includes(err.role as Role));
				if (!retry) throw err;
			}
		}

		const endpoint = `http://${urlHost(host)}:${ports.guard}`;
		const finalPorts = ports;
		const relaunch = async (): Promise<EngineProcess> => {
			for (const role of ROLES) await assertPortFree(host, finalPorts[role], role);
			return launch(finalPorts);
		};
		const api = createEngineApi(endpoint, { namespace });
		const handle = createEngineHandle({
			endpoint,
			namespace,
			ports,
			dataDir,
			tempDirs,
			ring,
			api,
			proc,
			relaunch,
		});
		if (namespace !== "default") {
			try {
				await api.ensureNamespace();
			} catch (err) {
				await handle.stop();
				throw new DevEngineError("API_ERROR", `could not create namespace "${namespace}": ${String(err)}`, {
					cause: err,
					logTail: ring.tail(40),
				});
			}
		}
		return handle;
	} catch (err) {
		await proc?.kill();
		await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
		throw err;
	}
}
