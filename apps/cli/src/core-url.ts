/**
 * The URL of the @dynosaur/core this CLI runs on: plugins and reporters are made to import
 * this one (see `shareCore`). The bundled `dynosaur` bin (bundle.mjs) replaces this module
 * with the URL of the core it carries.
 */
export const CORE_URL = import.meta.resolve("@dynosaur/core");
