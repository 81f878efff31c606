/**
 * Names shared by the probe's wire format and the checks API. A module of its own, free of zod, so the
 * probe can import it too.
 */

/** The location the API's own runtime checks from. */
export const EDGE = "edge";
export const DNS_RECORD_TYPES = ["A", "AAAA", "CNAME", "MX", "TXT", "NS"] as const;
