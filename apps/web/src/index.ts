export type { AppEngine, EngineEvent, EngineStatus } from "./engine.js";
export { main, type WebIO } from "./main.js";
export type { ReplayedProcess, ReplayResult, ReplayScore } from "./replay.js";
export { openStores, type RunningServer, type ServerOptions, startServer } from "./server.js";
