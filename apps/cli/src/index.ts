// What the CLI's package has exported since its first release; plugin lookup now lives in @dynosaur/host.
export { candidateNames, inferUse, installName, type LoadedPlugin } from "@dynosaur/host/plugins";
export { type CliIO, main } from "./main.js";
