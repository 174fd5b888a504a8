export type * from "./contracts.js";
export type * from "./deployment.js";
export * from "./refs.js";
