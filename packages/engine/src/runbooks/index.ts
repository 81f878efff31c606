export * from "./commands.ts";
export * from "./runbooks.ts";
export * from "./runs.ts";
export * from "./secrets.ts";
export * from "./tasks.ts";
export * from "./templates.ts";
