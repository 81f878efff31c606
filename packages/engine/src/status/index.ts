export * from "./incidents.ts";
export * from "./local-days.ts";
export * from "./maintenance.ts";
export * from "./page-data.ts";
export * from "./pages.ts";
export * from "./subjects.ts";
export * from "./subscribers.ts";
export { uptimeByLocalDay, uptimeRatio } from "./uptime.ts";
