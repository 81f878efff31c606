// The schema, one file per area. drizzle-kit reads this folder; code imports from here.

export * from "./accounts.ts";
export * from "./backups.ts";
export * from "./checks.ts";
export * from "./core.ts";
export * from "./ingest.ts";
export * from "./notify.ts";
export * from "./rules.ts";
export * from "./runbooks.ts";
export * from "./scheduler.ts";
export * from "./status.ts";
