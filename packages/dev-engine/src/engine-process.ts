import type { ChildProcess } from "node:child_process";
import { DevEngineError } from "./errors.ts";
import { type LogRing, readLines } from "./log-buffer.ts";
import { engineReady, roleOfService } from "./readiness.ts";
import { PID_MARKER, spawnSupervised } from "./watchdog.ts";

/** How the engine (via its supervisor) exited. */
export interface ExitInfo {
	code: number | null;
	signal: string | null;
}

/** Settings of one engine run. */
export interface LaunchOptions {
	binaryPath: string;
	configPath: string;
	env: Record<string, string | undefined>;
	/** Base URL whose `/health` is polled. */
	endpoint: string;
	/** Port per role, used to name the port in PORT_IN_USE errors. */
	ports: Record<string, number>;
	startTimeoutMs: number;
	/** Whether info-level lines are logged (then the guard's "listening" line is also awaited). */
	infoLogs: boolean;
	ring: LogRing;
	/** Temp folders the watchdog removes if this process dies. */
	tempDirs: readonly string[];
	onLog?: ((line: string) => void) | undefined;
}

/** One running engine process (behind its supervisor). */
export interface EngineProcess {
	readonly pid: number;
	readonly running: boolean;
	/** Resolves when the supervisor has exited (the engine is gone and reaped). */
	readonly exited: Promise<ExitInfo>;
	/** SIGTERM, then SIGKILL after `timeoutMs`; resolves once the process is gone. */
	terminate(timeoutMs: number): Promise<void>;
	/** SIGKILL; resolves once the process is gone. */
	kill(): Promise<void>;
}

/** Error raised when the engine reports that it could not bind one of its ports. */
export class PortConflictError extends DevEngineError {
	/** Role of the port ("guard", "apiPeer" or "metrics"), when known. */
	readonly role: string | undefined;
	constructor(message: string, role: string | undefined, logTail: string) {
		super("PORT_IN_USE", message, { logTail });
		this.role = role;
	}
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const TAIL_LINES = 40;

/** Spawns the engine under the watchdog supervisor and resolves once it is healthy; kills it on failure. */
export async function launchEngine(options: LaunchOptions): Promise<EngineProcess> {
	const { ring } = options;
	const child: ChildProcess = spawnSupervised(options.binaryPath, ["--config", options.configPath, "start"], {
		env: options.env,
		cleanupDirs: options.tempDirs,
	});
	let pid: number | undefined;
	let exitInfo: ExitInfo | undefined;
	let spawnError: unknown;
	let portConflict: PortConflictError | undefined;
	let lockConflict = false;
	let guardListening = false;

	const exited = new Promise<ExitInfo>((resolve) => {
		const done = (info: ExitInfo): void => {
			if (exitInfo) return;
			exitInfo = info;
			child.stdin?.destroy();
			resolve(info);
		};
		child.once("exit", (code, signal) => done({ code, signal }));
		child.once("error", (err) => {
			spawnError = err;
			if (child.pid === undefined) done({ code: null, signal: null });
		});
	});

	const onLine = (line: string): void => {
		if (pid === undefined && line.startsWith(PID_MARKER)) {
			pid = Number(line.slice(PID_MARKER.length));
			return;
		}
		ring.push(line);
		try {
			options.onLog?.(line);
		} catch {
			// a throwing log callback must not break the engine's output handling
		}
		if (line.includes("HTTP server listening on")) guardListening = true;
		if (line.includes("While lock file") || line.includes("LOCK: Resource temporarily unavailable")) {
			lockConflict = true;
		}
		if (!portConflict && /address (already )?in use/i.test(line)) {
			const service = /service=(\S+)/.exec(line)?.[1] ?? "";
			const role = roleOfService(service);
			const port = role ? options.ports[role] : undefined;
			const what = role && port !== undefined ? `${role} port ${port}` : "one of its ports";
			portConflict = new PortConflictError(
				`the engine could not bind ${what} (address in use)`,
				role,
				ring.tail(TAIL_LINES),
			);
		}
	};
	if (child.stdout) readLines(child.stdout, onLine);
	if (child.stderr) readLines(child.stderr, onLine);

	const signalEngine = (signal: "SIGTERM" | "SIGKILL"): void => {
		if (exitInfo) return;
		try {
			if (pid !== undefined) process.kill(pid, signal);
			else child.stdin?.end(); // pid not announced yet: EOF makes the supervisor stop the engine
		} catch {
			// already gone
		}
	};
	const waitExit = async (timeoutMs: number): Promise<boolean> =>
		Promise.race([exited.then(() => true), sleep(timeoutMs).then(() => exitInfo !== undefined)]);
	const kill = async (): Promise<void> => {
		signalEngine("SIGKILL");
		if (!(await waitExit(5000))) {
			child.kill("SIGKILL"); // last resort; the engine is already SIGKILLed
			await exited;
		}
	};
	const proc: EngineProcess = {
		get pid() {
			return pid ?? -1;
		},
		get running() {
			return exitInfo === undefined;
		},
		exited,
		async terminate(timeoutMs) {
			signalEngine("SIGTERM");
			if (!(await waitExit(timeoutMs))) await kill();
		},
		kill,
	};

	try {
		const deadline = Date.now() + options.startTimeoutMs;
		let healthySince: number | undefined;
		for (;;) {
			if (exitInfo) {
				const tail = ring.tail(TAIL_LINES);
				if (lockConflict) {
					throw new DevEngineError("DATA_DIR_UNUSABLE", "the data folder is locked by another engine", {
						logTail: tail,
					});
				}
				if (spawnError)
					throw new DevEngineError("EXITED_EARLY", "could not spawn the engine supervisor", {
						cause: spawnError,
					});
				const how = exitInfo.signal ? `signal ${exitInfo.signal}` : `code ${exitInfo.code}`;
				throw new DevEngineError("EXITED_EARLY", `the engine exited with ${how} before it became healthy`, {
					logTail: tail,
				});
			}
			if (portConflict) throw portConflict;
			if (Date.now() > deadline) {
				throw new DevEngineError(
					"START_TIMEOUT",
					`the engine at ${options.endpoint} did not become ready within ${options.startTimeoutMs} ms`,
					{ logTail: ring.tail(TAIL_LINES) },
				);
			}
			if (pid !== undefined && (await engineReady(options.endpoint))) {
				healthySince ??= Date.now();
				// A healthy answer could come from another engine on our guard port: also wait for our
				// own "listening" line (when info logs are on; give up waiting for it after 1 s).
				const ours = guardListening || !options.infoLogs || Date.now() - healthySince > 1000;
				if (ours && !portConflict && !exitInfo) return proc;
			}
			await Promise.race([sleep(50), exited]);
		}
	} catch (err) {
		await kill();
		throw err;
	}
}
