export * from "./nix.js";
