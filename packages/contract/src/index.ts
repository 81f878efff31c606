export * from "./api.ts";
export * from "./checks.ts";
export * from "./common.ts";
export * from "./errors.ts";
export * from "./hosts.ts";
export * from "./notifications.ts";
export * from "./probe.ts";
export * from "./rules.ts";
