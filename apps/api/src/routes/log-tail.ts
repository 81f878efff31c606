import type { LogsQuery } from "@vigil/contract";
import { latestLogId, listLogs } from "@vigil/engine";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { AppEnv } from "../env.ts";

/**
 * A live tail as `text/event-stream`: each new entry is one `log` event whose id is the entry id, in
 * order. It starts after `?after=`, the `Last-Event-ID` a reconnecting EventSource sends, or else the
 * newest entry now. The database is polled (both runtimes can do that; neither has change feeds here),
 * and the stream ends after `tailMaxMs` so no request lives forever; EventSource then reconnects and
 * resumes from the last id it saw.
 */
export function streamLogTail(c: Context<AppEnv>, query: LogsQuery & { hostId?: string }) {
  const { db, config } = c.var.deps;
  const projectId = c.var.principal.projectId;
  const resumeFrom = Number(c.req.header("last-event-id"));
  return streamSSE(c, async (stream) => {
    let after =
      query.after ??
      (Number.isInteger(resumeFrom) && resumeFrom >= 0 && c.req.header("last-event-id")
        ? resumeFrom
        : await latestLogId(db, projectId, query.hostId));
    let open = true;
    // The reader cancelling the body, or the request going away (a closed connection; on Workers the body's
    // cancel may not reach this stream), ends the loop: a tail must not poll on for nobody.
    stream.onAbort(() => {
      open = false;
    });
    const { signal } = c.req.raw;
    const stop = () => {
      open = false;
      stream.abort();
    };
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
    const deadline = Date.now() + config.tailMaxMs;
    await stream.writeSSE({ event: "ready", data: JSON.stringify({ after }) });
    while (open && Date.now() < deadline) {
      // A tail follows what arrives from now on: paging cursors and an end moment do not apply.
      const { entries } = await listLogs(db, projectId, {
        ...query,
        after,
        before: undefined,
        to: undefined,
        limit: 500,
      });
      for (const entry of entries) {
        await stream.writeSSE({ event: "log", id: String(entry.id), data: JSON.stringify(entry) });
        after = entry.id;
      }
      if (entries.length < 500) await stream.sleep(config.tailPollMs);
    }
  });
}
