export type * from "./contracts.js";
export type * from "./deployment.js";
export * from "./refs.js";
export * from "./shell.js";
export * from "./entrypoint.js";
