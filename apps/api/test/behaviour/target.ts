/**
 * What a behaviour case runs against: one Vigil API, either the self-hosted server's app on Node or the
 * Worker's app inside workerd, each on a fresh database with one project and its admin key. Cases see
 * only HTTP, a clock they move, the scheduler's jobs, and what the outside servers received.
 */
import type { RecordedMail, RecordedRequest } from "./fixtures.ts";

export type Runtime = "node" | "worker";

export interface Target {
  runtime: Runtime;
  /** the app's fetch; `path` is relative to http://localhost, as with Hono's `app.request` */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** the clock the app and its scheduler read */
  clock: { now(): number; advance(ms: number): void; set(ms: number): void };
  /**
   * runs every scheduled job once at the current clock (checks, rules, notify, rollups, retention, purge);
   * throws when one of them failed
   */
  tick(): Promise<void>;
  adminKey: string;
  projectId: string;
  pingKey: string;
  /** another project in the same database, with its own admin key */
  otherProject(): Promise<{ projectId: string; adminKey: string }>;
  /** the one-time setup link's token for the first owner, as `npm run deploy` prints it */
  setupToken(): Promise<string>;
  /** this case's outside servers: webhooks, check targets and mail */
  outside: Outside;
}

/** The start of every case's clock: a Friday noon UTC. */
export const START = Date.UTC(2026, 10, 27, 12);

/** This case's view of the fixtures (fixtures.ts), over their control endpoint. */
export class Outside {
  constructor(
    private readonly controlUrl: string,
    readonly caseId: string,
    private readonly info: { targetUrl: string; smtpUrl: string },
  ) {}

  static async connect(controlUrl: string): Promise<Outside> {
    const info = (await (await fetch(`${controlUrl}/info`)).json()) as { targetUrl: string; smtpUrl: string };
    return new Outside(controlUrl, `c${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`, info);
  }

  get smtpUrl() {
    return this.info.smtpUrl;
  }

  /** an address on a real server on 127.0.0.1 that answers `status` (200 unless told) and records the call */
  url(name = "hook", query: { status?: number; body?: string } = {}): string {
    const params = new URLSearchParams();
    if (query.status) params.set("status", String(query.status));
    if (query.body) params.set("body", query.body);
    const search = params.size ? `?${params}` : "";
    return `${this.info.targetUrl}/${this.caseId}/${name}${search}`;
  }

  /** an email address whose mail this case reads back */
  email(name = "ops"): string {
    return `${name}-${this.caseId}@example.com`;
  }

  /** what this case's URLs received, oldest first */
  async requests(name?: string): Promise<RecordedRequest[]> {
    const all = (await (
      await fetch(`${this.controlUrl}/requests/${this.caseId}`)
    ).json()) as RecordedRequest[];
    return name ? all.filter((r) => r.path.startsWith(`/${this.caseId}/${name}`)) : all;
  }

  /** answers the next requests to this case's URLs with these statuses, in order */
  async answer(statuses: number[]): Promise<void> {
    await fetch(`${this.controlUrl}/answers/${this.caseId}`, {
      method: "POST",
      body: JSON.stringify(statuses),
    });
  }

  /** mail sent to this case's addresses, oldest first */
  async mails(): Promise<RecordedMail[]> {
    return (await (await fetch(`${this.controlUrl}/mails/${this.caseId}`)).json()) as RecordedMail[];
  }
}
