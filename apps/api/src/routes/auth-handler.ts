import { ErrorCode } from "@vigil/contract";
import { CLIENT_IP_HEADER } from "@vigil/engine";
import type { Context } from "hono";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../env.ts";
import { allowedOrigins } from "../middleware/auth.ts";
import { clientAddress } from "../middleware/client.ts";
import { setCookiesOf } from "../middleware/cookies.ts";
import { errorResponse } from "../middleware/errors.ts";

const CODE_OF_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.badRequest,
  401: ErrorCode.unauthorized,
  403: ErrorCode.forbidden,
  404: ErrorCode.notFound,
  409: ErrorCode.conflict,
  422: ErrorCode.validation,
  429: ErrorCode.rateLimited,
};

/**
 * better-auth answers failures as `{code, message}`; Vigil's clients expect one error shape everywhere.
 * Its codes (INVALID_EMAIL_OR_PASSWORD, EMAIL_NOT_VERIFIED…) are SCREAMING_SNAKE already and are kept, so
 * a client can tell them apart; cookies it sets on the way (clearing a session) are kept too.
 */
async function inErrorShape(c: Context<AppEnv>, res: Response): Promise<Response> {
  const body = (await res.json().catch(() => null)) as { code?: unknown; message?: unknown } | null;
  const status = res.status as ContentfulStatusCode;
  const code =
    status === 429
      ? ErrorCode.rateLimited
      : typeof body?.code === "string" && /^[A-Z][A-Z0-9_]*$/.test(body.code)
        ? body.code
        : (CODE_OF_STATUS[status] ?? (status >= 500 ? ErrorCode.internal : ErrorCode.badRequest));
  const message =
    status >= 500
      ? "internal error; quote the request id when reporting it"
      : typeof body?.message === "string" && body.message
        ? body.message
        : `request refused (${status})`;
  for (const cookie of setCookiesOf(res.headers)) c.header("Set-Cookie", cookie, { append: true });
  const retryAfter = res.headers.get("retry-after") ?? res.headers.get("x-retry-after");
  if (retryAfter) c.header("Retry-After", retryAfter);
  return errorResponse(c, status, code as ErrorCode, message);
}

/**
 * better-auth's endpoints under /api/auth: sign-up, sign-in, sign-out, sessions, verification, password
 * reset, email change, two-factor, organisations. The caller's address is handed over in a header of our
 * own (any copy the client sent is dropped), so the library's per-address limits key on the real address.
 */
export const authHandlerRoutes = new Hono<AppEnv>().on(["GET", "POST"], "/*", async (c) => {
  // better-auth checks Origin only when cookies ride along; a page elsewhere must not sign anyone in or up
  // either (login CSRF). Browsers always send Origin on a cross-origin POST; scripts send none.
  const origin = c.req.header("origin");
  if (c.req.method === "POST" && origin && !allowedOrigins(c).includes(origin)) {
    return errorResponse(c, 403, ErrorCode.forbidden, "cross-site request refused: use Vigil's own pages");
  }
  const auth = await c.var.auth();
  const headers = new Headers(c.req.raw.headers);
  headers.set(CLIENT_IP_HEADER, clientAddress(c) ?? "unknown");
  const res = await auth.handler(new Request(c.req.raw, { headers }));
  return res.status >= 400 ? inErrorShape(c, res) : res;
});
