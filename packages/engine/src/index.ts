export * from "./api-keys.ts";
export * from "./checks/index.ts";
export * from "./clock.ts";
export * from "./errors.ts";
export * from "./health.ts";
export * from "./projects.ts";
