export * from "./fixtures.js";
export * from "./hostile.js";
export * from "./nix.js";
