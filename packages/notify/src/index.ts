export * from "./destinations.ts";
export * from "./errors.ts";
export * from "./http-mailer.ts";
export * from "./render.ts";
export * from "./signature.ts";
export * from "./smtp-socket.ts";
export * from "./status-notices.ts";
export * from "./transports.ts";
