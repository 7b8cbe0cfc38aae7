export { type CliIO, main } from "./main.js";
export { candidateNames, inferUse, installName, loadPlugins } from "./resolve-plugins.js";
