export * from "./alerts.ts";
export * from "./builtin.ts";
export * from "./evaluate.ts";
export * from "./forecast.ts";
export * from "./host-down.ts";
export * from "./lifecycle.ts";
export * from "./readings.ts";
export * from "./rules.ts";
