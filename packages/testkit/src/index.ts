export * from "./artifacts.js";
export * from "./fixtures.js";
export * from "./golden.js";
export * from "./hostile.js";
export * from "./nix.js";
export * from "./workspace.js";
