export { createEngineApi } from "./api.ts";
export type {
	Actor,
	CrashPolicy,
	CreateActorParams,
	EngineApi,
	EngineApiOptions,
	GetOrCreateActorParams,
	GetOrCreateActorResult,
	ListActorsParams,
	ListActorsResult,
	RunnerConfigBody,
} from "./api-types.ts";
export type { EnginePorts } from "./config.ts";
export { asyncDisposeSymbol } from "./dispose.ts";
export type { EngineHandle, StopOptions } from "./engine-handle.ts";
export {
	DevEngineError,
	type DevEngineErrorCode,
	type DevEngineErrorDetails,
	EngineApiError,
} from "./errors.ts";
export { findFreePorts } from "./ports.ts";
export { type StartEngineOptions, startEngine } from "./start-engine.ts";
export { withEngine } from "./with-engine.ts";
