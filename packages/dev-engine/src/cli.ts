import { DevEngineError } from "./errors.ts";
import { type StartEngineOptions, startEngine } from "./start-engine.ts";

const USAGE = `Usage: rivet-dev-engine [options]

Starts a local Rivet Engine on loopback and keeps it running until SIGINT/SIGTERM.

Options:
  --port N             guard (public) port (default: 6420)
  --api-peer-port N    api-peer port (default: a free port)
  --metrics-port N     metrics port (default: a free port)
  --data DIR           persistent storage folder (default: a temp folder removed on exit)
  --namespace NAME     namespace to use/create (default: "default")
  --host ADDR          interface to bind (default: 127.0.0.1)
  --log-level LEVEL    engine log filter, e.g. warn, info, debug (default: engine default)
  --verbose            print the engine's log lines
  --help               show this help
`;

interface CliArgs {
	options: StartEngineOptions;
	verbose: boolean;
	help: boolean;
}

function parsePort(flag: string, value: string): number {
	const port = Number(value);
	if (!Number.isInteger(port) || port < 1 || port > 65535)
		throw new Error(`${flag} expects a port, got "${value}"`);
	return port;
}

function parseArgs(argv: readonly string[]): CliArgs {
	const options: StartEngineOptions = { guardPort: 6420 };
	const result: CliArgs = { options, verbose: false, help: false };
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i] ?? "";
		const eq = arg.indexOf("=");
		const flag = arg.startsWith("--") && eq !== -1 ? arg.slice(0, eq) : arg;
		const value = (): string => {
			if (eq !== -1 && arg.startsWith("--")) return arg.slice(eq + 1);
			const next = argv[++i];
			if (next === undefined) throw new Error(`${flag} needs a value`);
			return next;
		};
		switch (flag) {
			case "--port":
				options.guardPort = parsePort(flag, value());
				break;
			case "--api-peer-port":
				options.apiPeerPort = parsePort(flag, value());
				break;
			case "--metrics-port":
				options.metricsPort = parsePort(flag, value());
				break;
			case "--data":
				options.dataDir = value();
				break;
			case "--namespace":
				options.namespace = value();
				break;
			case "--host":
				options.host = value();
				break;
			case "--log-level":
				options.logLevel = value();
				break;
			case "--verbose":
				result.verbose = true;
				break;
			case "-h":
			case "--help":
				result.help = true;
				break;
			default:
				throw new Error(`unknown argument "${arg}"`);
		}
	}
	return result;
}

async function main(argv: readonly string[]): Promise<number> {
	let args: CliArgs;
	try {
		args = parseArgs(argv);
	} catch (err) {
		process.stderr.write(`rivet-dev-engine: ${(err as Error).message}\n\n${USAGE}`);
		return 2;
	}
	if (args.help) {
		process.stdout.write(USAGE);
		return 0;
	}
	if (args.verbose) args.options.onLog = (line) => process.stderr.write(`${line}\n`);

	const engine = await startEngine(args.options);
	process.stdout.write(
		`endpoint: ${engine.endpoint}\nnamespace: ${engine.namespace}\ndata: ${engine.dataDir}${
			args.options.dataDir ? "" : " (temporary)"
		}\npid: ${engine.pid}\n`,
	);

	return new Promise<number>((resolve) => {
		let stopping = false;
		const onSignal = (signal: string): void => {
			if (stopping) {
				process.stderr.write(`rivet-dev-engine: ${signal} received again, killing the engine\n`);
				void engine.kill();
				return;
			}
			stopping = true;
			process.stderr.write(`rivet-dev-engine: ${signal} received, stopping the engine\n`);
			engine.stop().then(
				() => resolve(0),
				(err: unknown) => {
					process.stderr.write(`rivet-dev-engine: stop failed: ${String(err)}\n`);
					resolve(1);
				},
			);
		};
		process.on("SIGINT", () => onSignal("SIGINT"));
		process.on("SIGTERM", () => onSignal("SIGTERM"));
		const watch = setInterval(() => {
			if (stopping || engine.running) return;
			clearInterval(watch);
			process.stderr.write(`rivet-dev-engine: the engine exited unexpectedly\n${engine.logTail()}\n`);
			void engine.stop().finally(() => resolve(1));
		}, 500);
	});
}

main(process.argv.slice(2)).then(
	(code) => process.exit(code),
	(err: unknown) => {
		const message = err instanceof DevEngineError ? `${err.code}: ${err.message}` : String(err);
		process.stderr.write(`rivet-dev-engine: ${message}\n`);
		process.exit(1);
	},
);
