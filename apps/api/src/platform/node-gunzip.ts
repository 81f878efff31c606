import { gunzip } from "node:zlib";
import { type Gunzip, InflateFormatError, InflateLimitError } from "./gunzip.ts";

/** node:zlib stops at `maxOutputLength` itself, so a gzip bomb never fills memory. */
export const nodeGunzip: Gunzip = (bytes, limit) =>
  new Promise((resolve, reject) => {
    gunzip(bytes, { maxOutputLength: limit }, (err, out) => {
      if (!err) return resolve(out);
      reject(
        (err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE"
          ? new InflateLimitError()
          : new InflateFormatError(),
      );
    });
  });
