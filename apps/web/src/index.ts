export { type WebIO, main } from "./main.js";
export { openStores, type RunningServer, type ServerOptions, startServer } from "./server.js";
export type { AppEngine, EngineEvent, EngineStatus } from "./engine.js";
