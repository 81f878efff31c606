/**
 * The public side of status pages: HTML, JSON, Atom feed and badges, by slug or by custom domain. Each
 * answer is rendered from one `buildStatusPageData` and kept in `deps.statusCache` under a key carrying
 * the page's version, so a state change or an edit is visible on the next request.
 */
import { ErrorCode, type StatusPageData, subscribeRequestSchema } from "@vigil/contract";
import {
  buildStatusPageData,
  confirmSubscription,
  findPublishedPage,
  findSubscriberByLink,
  InvalidInputError,
  NotFoundError,
  type PublishedPage,
  subscribe,
  unsubscribeByLink,
} from "@vigil/engine";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import { accountsBaseUrl } from "../accounts.ts";
import type { AppEnv } from "../env.ts";
import { CAP_SETTINGS, enforceRate, limitedAddress } from "../limits.ts";
import { errorResponse, RequestValidationError } from "../middleware/errors.ts";
import { parseInput, validate } from "../middleware/validate.ts";
import { badgeSvg } from "../status/badge.ts";
import { atomFeed, rssFeed } from "../status/feed.ts";
import { bannerText, percent, stateColour, stateText } from "../status/format.ts";
import { renderStatusMessage, renderStatusPage, type StatusMessage } from "../status/page.tsx";

const HTML = "text/html; charset=utf-8";
const badgeQuery = z.object({ show: z.enum(["state", "uptime"]).default("state") });

async function pageBySlug(c: Context<AppEnv>): Promise<PublishedPage> {
  const slug = c.req.param("slug") ?? "";
  const page = /^[a-z0-9-]{1,63}$/.test(slug) ? await findPublishedPage(c.var.deps.db, { slug }) : null;
  if (!page) throw new NotFoundError("status page");
  return page;
}

/**
 * Answers from the cache or renders and stores. `variant` names what is rendered (html, json, a badge);
 * the page's version in the key retires every entry when anything on the page changes.
 */
async function cached(
  c: Context<AppEnv>,
  published: PublishedPage,
  variant: string,
  contentType: string,
  render: (data: StatusPageData) => string | Promise<string>,
) {
  const { statusCache, config, db, clock } = c.var.deps;
  const key = `${published.row.id}:${published.version}:${variant}`;
  const headers = {
    "content-type": contentType,
    "cache-control": `public, max-age=${Math.floor(config.statusCacheTtlMs / 1000)}`,
    "access-control-allow-origin": "*",
  };
  const hit = await statusCache?.get(key);
  if (hit) return c.body(hit.body, 200, { ...headers, "x-vigil-cache": "hit" });
  const body = await render(await buildStatusPageData(db, published.row, clock.now()));
  await statusCache?.put(key, { body, contentType });
  return c.body(body, 200, { ...headers, "x-vigil-cache": "miss" });
}

const canMail = (c: Context<AppEnv>) => c.var.deps.mailer !== undefined;

const html = (c: Context<AppEnv>, page: PublishedPage) =>
  cached(c, page, canMail(c) ? "html" : "html:nomail", HTML, (data) =>
    renderStatusPage(data, { canMail: canMail(c) }),
  );

/**
 * Subscribing, past the rate limits: per address (a visitor) and per page (a crowd, or someone filling
 * strangers' inboxes with confirmation mails). Only the mail to the address itself confirms it.
 */
async function subscribeTo(c: Context<AppEnv>, page: PublishedPage, body: unknown) {
  const address = limitedAddress(c);
  if (address) await enforceRate(c, "subscribePerAddress", address);
  await enforceRate(c, "subscribePerPage", page.row.id);
  const { db, clock, config } = c.var.deps;
  return subscribe(db, clock, page.row, parseInput(subscribeRequestSchema, body, "body"), {
    baseUrl: accountsBaseUrl(c.var.deps, c.req.raw),
    policy: { allowPrivateTargets: config.allowPrivateTargets },
    cap: { max: config.limits.maxSubscribers, setting: CAP_SETTINGS.maxSubscribers.env },
    canMail: canMail(c),
  });
}

async function message(
  c: Context<AppEnv>,
  page: PublishedPage,
  status: 200 | 404,
  m: Omit<StatusMessage, "pageTitle" | "slug">,
) {
  const body = await renderStatusMessage({ ...m, pageTitle: page.row.title, slug: page.row.slug });
  return c.body(body, status, { "content-type": HTML, "cache-control": "no-store" });
}

const invalidLink = {
  heading: "This link does not work",
  text: "It has expired, or the subscription it belonged to has ended. You can subscribe again from the status page.",
};

const origin = (c: Context<AppEnv>) => c.var.deps.config.publicUrl ?? new URL(c.req.url).origin;

function badge(data: StatusPageData, label: string, show: "state" | "uptime", componentId?: string) {
  const component = componentId
    ? data.groups.flatMap((g) => g.components).find((x) => x.id === componentId)
    : undefined;
  if (componentId && !component) throw new NotFoundError("component");
  if (show === "uptime") {
    const all = component ? [component] : data.groups.flatMap((g) => g.components);
    const measured = all.flatMap((x) => x.days);
    const up = measured.reduce((n, d) => n + d.upMs + d.degradedMs, 0);
    const total = measured.reduce((n, d) => n + d.upMs + d.degradedMs + d.downMs, 0);
    const ratio = total === 0 ? null : up / total;
    const colour =
      ratio === null
        ? stateColour.unknown
        : ratio >= 0.999
          ? stateColour.operational
          : ratio >= 0.99
            ? stateColour.degraded
            : stateColour.outage;
    return badgeSvg(`${label} uptime`, percent(ratio), colour);
  }
  if (component)
    return badgeSvg(label, stateText[component.state].toLowerCase(), stateColour[component.state]);
  return badgeSvg(label, bannerText[data.status].toLowerCase(), stateColour[data.status]);
}

const SVG = "image/svg+xml; charset=utf-8";

/** Public pages are counted per address (cache hits too: they still cost this server a request). */
async function limitPerAddress(c: Context<AppEnv>): Promise<void> {
  const address = limitedAddress(c);
  if (address) await enforceRate(c, "statusPerAddress", address);
}
const statusLimit = createMiddleware<AppEnv>(async (c, next) => {
  await limitPerAddress(c);
  await next();
});

/** The subscribe form carries an address and a few component ids: anything near this is not one. */
export const SUBSCRIBE_BODY_LIMIT = 16_384;

/** Mounted at `/status`. */
export const statusRoutes = new Hono<AppEnv>()
  .use("*", statusLimit)
  .use(
    "/:slug/subscribe",
    bodyLimit({
      maxSize: SUBSCRIBE_BODY_LIMIT,
      onError: (c) =>
        errorResponse(c, 413, ErrorCode.payloadTooLarge, `request body over ${SUBSCRIBE_BODY_LIMIT} bytes`),
    }),
  )
  .get("/:slug", async (c) => html(c, await pageBySlug(c)))
  .get("/:slug/feed.atom", async (c) => {
    const page = await pageBySlug(c);
    const base = origin(c);
    return cached(c, page, `feed:${base}`, "application/atom+xml; charset=utf-8", (data) =>
      atomFeed(data, base),
    );
  })
  .get("/:slug/feed.rss", async (c) => {
    const page = await pageBySlug(c);
    const base = origin(c);
    return cached(c, page, `rss:${base}`, "application/rss+xml; charset=utf-8", (data) =>
      rssFeed(data, base),
    );
  })
  // The page's own form (no script): an HTML answer either way, the refusal's message in words.
  .post("/:slug/subscribe", async (c) => {
    const page = await pageBySlug(c);
    const form = await c.req.parseBody({ all: true });
    const chosen = form.components;
    const components = chosen === undefined ? [] : (Array.isArray(chosen) ? chosen : [chosen]).map(String);
    try {
      await subscribeTo(c, page, { email: String(form.email ?? ""), components });
    } catch (err) {
      if (!(err instanceof RequestValidationError || err instanceof InvalidInputError)) throw err;
      const said = err.message.replace(/^[\w.]+: /, "");
      const text =
        err instanceof InvalidInputError
          ? `${said[0]?.toUpperCase()}${said.slice(1)}.`
          : "Enter a valid email address.";
      return c.body(
        await renderStatusMessage({
          pageTitle: page.row.title,
          slug: page.row.slug,
          heading: "Not subscribed",
          text,
        }),
        400,
        { "content-type": HTML, "cache-control": "no-store" },
      );
    }
    return message(c, page, 200, {
      heading: "Check your inbox",
      text: "If the address can take notices, a mail with a confirmation link is on its way. Nothing is sent until you open it.",
    });
  })
  .get("/:slug/confirm/:token", async (c) => {
    const page = await pageBySlug(c);
    const { db, clock } = c.var.deps;
    const subscriber = await confirmSubscription(db, clock, page.row, c.req.param("token"));
    if (!subscriber) return message(c, page, 404, invalidLink);
    return message(c, page, 200, {
      heading: "Subscribed",
      text: `${subscriber.address} will get notices of incidents and maintenance. Every notice has a link to unsubscribe.`,
    });
  })
  // Opening the link asks first: mail scanners follow links, and must not unsubscribe anyone.
  .get("/:slug/unsubscribe/:token", async (c) => {
    const page = await pageBySlug(c);
    const token = c.req.param("token");
    const subscriber = await findSubscriberByLink(c.var.deps.db, c.var.deps.clock, page.row, token);
    if (!subscriber) return message(c, page, 404, invalidLink);
    return message(c, page, 200, {
      heading: "Unsubscribe?",
      text: `Stop notices from ${page.row.title} status to ${subscriber.address}.`,
      action: { path: `/status/${page.row.slug}/unsubscribe/${token}`, label: "Unsubscribe" },
    });
  })
  // The button above, and mail clients' one-click unsubscribe (RFC 8058: POST "List-Unsubscribe=One-Click").
  .post("/:slug/unsubscribe/:token", async (c) => {
    const page = await pageBySlug(c);
    const done = await unsubscribeByLink(c.var.deps.db, c.var.deps.clock, page.row, c.req.param("token"));
    if (!done) return message(c, page, 404, invalidLink);
    return message(c, page, 200, {
      heading: "Unsubscribed",
      text: "No more notices will be sent to this address.",
    });
  })
  .get("/:slug/badge.svg", validate("query", badgeQuery), async (c) => {
    const page = await pageBySlug(c);
    const { show } = c.req.valid("query");
    return cached(c, page, `badge:${show}`, SVG, (data) => badge(data, "status", show));
  })
  .get("/:slug/components/:component/badge.svg", validate("query", badgeQuery), async (c) => {
    const page = await pageBySlug(c);
    const { show } = c.req.valid("query");
    const id = c.req.param("component");
    if (!z.uuid().safeParse(id).success) throw new NotFoundError("component");
    return cached(c, page, `badge:${show}:${id}`, SVG, (data) => {
      const name = data.groups.flatMap((g) => g.components).find((x) => x.id === id)?.name ?? "";
      return badge(data, name.toLowerCase(), show, id);
    });
  });

/** Mounted at `/api/v1/status`: the page data as JSON, public and cacheable. */
export const statusJsonRoutes = new Hono<AppEnv>()
  .use("*", statusLimit)
  .get("/:slug", async (c) =>
    cached(c, await pageBySlug(c), "json", "application/json; charset=utf-8", (data) => JSON.stringify(data)),
  )
  // For scripts and other sites' forms: the same subscription, answered in JSON (202: it is queued).
  .post("/:slug/subscribers", async (c) => {
    const page = await pageBySlug(c);
    const body = await c.req.json().catch(() => {
      throw new RequestValidationError(
        [{ path: "body", message: "expected a JSON object" }],
        ErrorCode.invalidJson,
      );
    });
    return c.json({ status: await subscribeTo(c, page, body) }, 202);
  });

/** `GET /` on a page's custom domain serves that page; on any other host it is the dashboard's. */
export const customDomainRoutes = new Hono<AppEnv>().get("/", async (c, next) => {
  // Node's adapter and Workers both build the request URL from the Host header.
  const host = new URL(c.req.url).hostname.toLowerCase();
  const page = host ? await findPublishedPage(c.var.deps.db, { domain: host }) : null;
  // Not a status page's domain: `/` is the dashboard's (or a 404 where none is built).
  if (!page) return next();
  await limitPerAddress(c);
  return html(c, page);
});
