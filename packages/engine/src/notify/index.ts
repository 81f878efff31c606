export * from "./channels.ts";
export * from "./delivery-log.ts";
export * from "./describe.ts";
