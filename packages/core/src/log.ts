/**
 * Logging helpers: a console-backed structured logger, a silent logger, and level checks so that debug output is
 * never formatted when the level is off.
 *
 * @module
 */
import type { LogFn, Logger, LogLevel } from "./platform.ts";

const ORDER: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50 };

/** Options of {@link createConsoleLogger}. */
export interface ConsoleLoggerOptions {
	/** Lowest level written. @default "info" */
	level?: LogLevel;
	/** Fields added to every line. @default {} */
	bindings?: Record<string, unknown>;
	/** Where lines go. @default globalThis.console */
	console?: Pick<Console, "debug" | "info" | "warn" | "error">;
}

/**
 * A logger that writes one JSON line per call to the console (`console.error` for warn and error). Used by the Deno
 * adapter by default and usable anywhere pino is not wanted.
 */
export function createConsoleLogger(options: ConsoleLoggerOptions = {}): Logger {
	const threshold = ORDER[options.level ?? "info"];
	const bindings = options.bindings ?? {};
	const out = options.console ?? globalThis.console;
	const line =
		(level: LogLevel, write: (text: string) => void): LogFn =>
		(object, message) => {
			if (ORDER[level] < threshold) return;
			write(
				JSON.stringify(
					{ level, time: Date.now(), ...bindings, ...object, ...(message ? { msg: message } : {}) },
					jsonReplacer,
				),
			);
		};
	return {
		trace: line("trace", (t) => out.debug(t)),
		debug: line("debug", (t) => out.debug(t)),
		info: line("info", (t) => out.info(t)),
		warn: line("warn", (t) => out.warn(t)),
		error: line("error", (t) => out.error(t)),
		child: (more) => createConsoleLogger({ ...options, bindings: { ...bindings, ...more } }),
		isLevelEnabled: (level) => (ORDER[level as LogLevel] ?? 0) >= threshold,
	};
}

function jsonReplacer(_key: string, value: unknown): unknown {
	if (typeof value === "bigint") return value.toString();
	if (value instanceof Error)
		return { type: value.name, message: value.message, code: (value as { code?: unknown }).code };
	return value;
}

const noop: LogFn = () => {};

/** A logger that writes nothing. */
export const silentLogger: Logger = {
	trace: noop,
	debug: noop,
	info: noop,
	warn: noop,
	error: noop,
	child: () => silentLogger,
	isLevelEnabled: () => false,
};

/** Whether `logger` would write `level`; cheap enough for hot paths. */
export function levelEnabled(logger: Logger, level: LogLevel): boolean {
	return logger.isLevelEnabled ? logger.isLevelEnabled(level) : true;
}
