export { configJsonSchema } from "./commands/schema.js";
export { type CliIO, main } from "./main.js";
export { candidateNames, inferUse, installName, type LoadedPlugin, loadPlugins } from "./resolve-plugins.js";
