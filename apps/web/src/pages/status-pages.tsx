/**
 * Status pages: the project's public pages (create, edit, which checks and hosts they show, in what order
 * and under which names, a live preview), and what every page says besides: incidents with their updates,
 * and scheduled maintenance; and who subscribed to hear of them. Incidents and maintenance belong to the project, so each page shows those
 * touching its components.
 */
import type {
  Check,
  Host,
  IncidentImpactName,
  IncidentProgressName,
  Maintenance,
  StatusIncident,
  StatusPage,
  StatusSubscriber,
} from "@vigil/contract";
import { useEffect, useState } from "preact/hooks";
import { Link, useLocation, useParams } from "wouter-preact";
import { api, can, post, projectPath } from "../api.ts";
import { useProject } from "../app.tsx";
import { Checkbox, ConfirmButton, Input, Select, TextArea, text, useForm } from "../form.tsx";
import { invalidate, useQuery } from "../query.ts";
import { Badge, Empty, ErrorNote, when } from "../ui.tsx";

const IMPACTS: IncidentImpactName[] = ["none", "minor", "major", "critical"];
const PROGRESS: IncidentProgressName[] = ["investigating", "identified", "monitoring", "resolved"];

interface Subject {
  type: "check" | "host";
  id: string;
  name: string;
  public: boolean;
}

/** Every check and host of the project, the things a page or an incident can name. */
function useSubjects(): Subject[] {
  const { projectId } = useProject();
  const checks = useQuery<{ checks: Check[] }>(projectPath(projectId, "/checks"));
  const hosts = useQuery<{ hosts: Host[] }>(projectPath(projectId, "/hosts"));
  return [
    ...(checks.data?.checks ?? []).map((c) => ({
      type: "check" as const,
      id: c.id,
      name: c.name,
      public: c.public,
    })),
    ...(hosts.data?.hosts ?? []).map((h) => ({
      type: "host" as const,
      id: h.id,
      name: h.name,
      public: h.public,
    })),
  ];
}

const slugOf = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63);

export function StatusPagesPage() {
  const { projectId, role } = useProject();
  const pages = useQuery<{ statusPages: StatusPage[] }>(projectPath(projectId, "/status-pages"));
  const list = pages.data?.statusPages ?? [];
  return (
    <>
      <h1>Status pages</h1>
      <ErrorNote error={pages.error} />
      {pages.data && list.length === 0 ? (
        <Empty title="No status pages yet">
          <p>
            A status page tells your users, without signing in, whether your services work: the checks and
            hosts you choose, their 90 days, your incident notes and planned maintenance.
          </p>
        </Empty>
      ) : (
        <ul class="cards">
          {list.map((p) => (
            <li key={p.id} class="card">
              <div class="card-head">
                <Link href={`/status-pages/${p.id}`} class="host-name">
                  {p.title}
                </Link>
                <span class="muted">{p.components.length} components</span>
              </div>
              <p class="muted wrap">/status/{p.slug}</p>
              <a href={`/status/${p.slug}`} target="_blank" rel="noreferrer">
                Open public page<span class="visually-hidden"> of {p.title}</span>
              </a>
            </li>
          ))}
        </ul>
      )}
      {can(role, "write") && <NewStatusPage />}
      <Incidents />
      <MaintenanceList />
    </>
  );
}

function NewStatusPage() {
  const { projectId } = useProject();
  const [, navigate] = useLocation();
  const [title, setTitle] = useState("");
  const [slug, setSlug] = useState<string | null>(null);
  const form = useForm(async (f) => {
    const page = await post<StatusPage>(projectPath(projectId, "/status-pages"), {
      title: text(f, "title"),
      slug: text(f, "slug"),
      description: text(f, "description") ?? "",
      timezone: text(f, "timezone") ?? "UTC",
    });
    await invalidate(projectPath(projectId, "/status-pages"));
    navigate(`/status-pages/${page.id}`);
  });
  return (
    <section aria-labelledby="new-page">
      <h2 id="new-page">New status page</h2>
      <form class="stack form-card" onSubmit={form.onSubmit}>
        <Input
          form="new-page"
          label="Title"
          name="title"
          required
          value={title}
          onInput={setTitle}
          error={form.errorFor("title")}
        />
        <Input
          form="new-page"
          label="Address (slug)"
          name="slug"
          required
          value={slug ?? slugOf(title)}
          onInput={setSlug}
          hint={`The page answers at ${location.origin}/status/${slug ?? slugOf(title)}`}
          error={form.errorFor("slug")}
        />
        <TextArea
          form="new-page"
          label="Description"
          name="description"
          error={form.errorFor("description")}
        />
        <Input
          form="new-page"
          label="Time zone"
          name="timezone"
          value={Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"}
          hint="Days on the page are counted in this zone."
          error={form.errorFor("timezone")}
        />
        <ErrorNote error={form.formError(["title", "slug", "description", "timezone"])} />
        <button type="submit" disabled={form.busy}>
          Create status page
        </button>
      </form>
    </section>
  );
}

export function StatusPageEditor() {
  const { pageId } = useParams<{ pageId: string }>();
  const { projectId, role } = useProject();
  const [, navigate] = useLocation();
  const path = projectPath(projectId, `/status-pages/${pageId}`);
  const page = useQuery<StatusPage>(path);
  const p = page.data;
  const writer = can(role, "write");
  const [saved, setSaved] = useState(0);
  const details = useForm(async (f) => {
    await api<StatusPage>(path, {
      method: "PATCH",
      body: {
        title: text(f, "title"),
        slug: text(f, "slug"),
        description: text(f, "description") ?? "",
        logoUrl: text(f, "logoUrl"),
        timezone: text(f, "timezone") ?? "UTC",
        customDomain: text(f, "customDomain"),
      },
    });
    await Promise.all([page.refetch(), invalidate(projectPath(projectId, "/status-pages"))]);
    setSaved(Date.now());
  });
  return (
    <>
      <p>
        <Link href="/status-pages">← Status pages</Link>
      </p>
      <ErrorNote error={page.error} />
      {p && (
        <>
          <div class="section-head">
            <h1>{p.title}</h1>
            <a href={`/status/${p.slug}`} target="_blank" rel="noreferrer">
              Open public page
            </a>
          </div>
          {writer && (
            <section aria-labelledby="page-details">
              <h2 id="page-details">Page</h2>
              <form class="stack form-card" onSubmit={details.onSubmit} key={p.updatedAt}>
                <Input
                  form="page"
                  label="Title"
                  name="title"
                  required
                  value={p.title}
                  error={details.errorFor("title")}
                />
                <Input
                  form="page"
                  label="Address (slug)"
                  name="slug"
                  required
                  value={p.slug}
                  error={details.errorFor("slug")}
                />
                <TextArea form="page" label="Description" name="description" value={p.description} />
                <Input
                  form="page"
                  label="Logo URL"
                  name="logoUrl"
                  type="url"
                  value={p.logoUrl}
                  error={details.errorFor("logoUrl")}
                />
                <Input
                  form="page"
                  label="Time zone"
                  name="timezone"
                  value={p.timezone}
                  error={details.errorFor("timezone")}
                />
                <Input
                  form="page"
                  label="Custom domain"
                  name="customDomain"
                  value={p.customDomain}
                  placeholder="status.example.com"
                  hint="Point the name at Vigil and the page answers there too."
                  error={details.errorFor("customDomain")}
                />
                <ErrorNote
                  error={details.formError(["title", "slug", "logoUrl", "timezone", "customDomain"])}
                />
                <button type="submit" disabled={details.busy}>
                  Save page
                </button>
                {saved > 0 && !details.busy && <p role="status">Saved.</p>}
              </form>
            </section>
          )}
          <Components page={p} path={path} onSaved={() => page.refetch()} writer={writer} />
          <Subscribers page={p} path={path} writer={writer} />
          <section aria-labelledby="preview">
            <h2 id="preview">Preview</h2>
            <iframe
              class="preview"
              title={`Preview of the public status page ${p.title}`}
              src={`/status/${p.slug}?v=${p.updatedAt}`}
            />
          </section>
          {writer && (
            <p>
              <ConfirmButton
                label="Delete page"
                confirm={`Delete the status page ${p.title}? Its address stops answering.`}
                onConfirm={async () => {
                  await api(path, { method: "DELETE" });
                  await invalidate(projectPath(projectId, "/status-pages"));
                  navigate("/status-pages");
                }}
              />
            </p>
          )}
        </>
      )}
    </>
  );
}

/** Who follows the page: confirmed and waiting email addresses, and webhooks; a writer may remove any. */
function Subscribers({ page, path, writer }: { page: StatusPage; path: string; writer: boolean }) {
  const list = useQuery<{ subscribers: StatusSubscriber[] }>(`${path}/subscribers`, { pollMs: 30_000 });
  const names = new Map(page.components.map((c) => [c.id, c.name]));
  const subscribers = list.data?.subscribers ?? [];
  const confirmed = subscribers.filter((s) => s.confirmedAt !== null).length;
  return (
    <section aria-labelledby="subscribers">
      <h2 id="subscribers">Subscribers</h2>
      <p>
        Readers subscribe from the public page (email, confirmed by a mailed link) or with{" "}
        <code>POST /api/v1/status/{page.slug}/subscribers</code> (email or webhook). They hear of incidents,
        their updates and maintenance.
      </p>
      <ErrorNote error={list.error} />
      {list.data && subscribers.length === 0 ? (
        <p class="muted">Nobody yet.</p>
      ) : (
        <>
          <p>
            {confirmed} confirmed, {subscribers.length - confirmed} waiting for confirmation.
          </p>
          <div class="table-wrap">
            <table data-testid="subscribers">
              <thead>
                <tr>
                  <th scope="col">Address</th>
                  <th scope="col">Hears of</th>
                  <th scope="col">Since</th>
                  {writer && <th scope="col">Remove</th>}
                </tr>
              </thead>
              <tbody>
                {subscribers.map((s) => (
                  <tr key={s.id}>
                    <td>
                      {s.address}{" "}
                      <Badge tone={s.confirmedAt ? "ok" : "muted"}>
                        {s.confirmedAt ? s.kind : "waiting"}
                      </Badge>
                    </td>
                    <td>
                      {s.components.length
                        ? s.components.map((id) => names.get(id) ?? id).join(", ")
                        : "everything"}
                    </td>
                    <td>{when(s.createdAt)}</td>
                    {writer && (
                      <td>
                        <ConfirmButton
                          label="Remove"
                          confirm={`Stop notices to ${s.address}?`}
                          onConfirm={async () => {
                            await api(`${path}/subscribers/${s.id}`, { method: "DELETE" });
                            await list.refetch();
                          }}
                        />
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

interface Draft {
  type: "check" | "host";
  id: string;
  name: string;
  heading: string;
}

/** The page's components as an editable list: rename, group under headings, reorder, add and remove. */
function Components(props: {
  page: StatusPage;
  path: string;
  writer: boolean;
  onSaved: () => Promise<void>;
}) {
  const { projectId } = useProject();
  const subjects = useSubjects();
  const fromPage = (): Draft[] =>
    props.page.components.map((c) => ({
      type: c.type,
      id: c.subjectId,
      name: c.name,
      heading: c.heading ?? "",
    }));
  const [draft, setDraft] = useState<Draft[]>(fromPage);
  const [status, setStatus] = useState<string | null>(null);
  // Someone else saved (or this form did): start again from what the page now holds.
  useEffect(() => setDraft(fromPage()), [props.page.updatedAt]);
  const available = subjects.filter((s) => !draft.some((d) => d.type === s.type && d.id === s.id));
  const [adding, setAdding] = useState("");
  const change = (i: number, patch: Partial<Draft>) =>
    setDraft(draft.map((d, j) => (j === i ? { ...d, ...patch } : d)));
  const move = (i: number, by: number) => {
    const next = [...draft];
    const [item] = next.splice(i, 1);
    if (item) next.splice(i + by, 0, item);
    setDraft(next);
    setStatus(`${item?.name} moved to position ${i + by + 1} of ${next.length}`);
  };
  const add = () => {
    const s = available.find(
      (a) => `${a.type}:${a.id}` === (adding || `${available[0]?.type}:${available[0]?.id}`),
    );
    if (!s) return;
    setDraft([...draft, { type: s.type, id: s.id, name: s.name, heading: "" }]);
    setAdding("");
    setStatus(`${s.name} added`);
  };
  const save = useForm(async () => {
    // Only public checks and hosts may appear on a page; adding one here is the operator saying it may.
    for (const d of draft) {
      const s = subjects.find((x) => x.type === d.type && x.id === d.id);
      if (s && !s.public)
        await api(projectPath(projectId, `/${d.type}s/${d.id}`), { method: "PATCH", body: { public: true } });
    }
    await api(props.path, {
      method: "PATCH",
      body: {
        components: draft.map((d) => ({
          type: d.type,
          id: d.id,
          name: d.name.trim() || "unnamed",
          heading: d.heading.trim() || null,
        })),
      },
    });
    await Promise.all([props.onSaved(), invalidate(projectPath(projectId, "/checks"))]);
    setStatus("Components saved");
  });
  const label = (d: Draft) => subjects.find((s) => s.type === d.type && s.id === d.id)?.name ?? d.id;
  return (
    <section aria-labelledby="components">
      <h2 id="components">Components</h2>
      {draft.length === 0 && (
        <p class="muted">No components yet: add the checks and hosts this page shows.</p>
      )}
      <form onSubmit={save.onSubmit} class="stack">
        <ol class="subjects">
          {draft.map((d, i) => (
            <li key={`${d.type}:${d.id}`}>
              <span class="muted">
                {d.type} {label(d)}
              </span>
              {props.writer ? (
                <>
                  <div class="field">
                    <label for={`c-name-${i}`}>Shown as</label>
                    <input
                      id={`c-name-${i}`}
                      value={d.name}
                      onInput={(e) => change(i, { name: (e.target as HTMLInputElement).value })}
                    />
                  </div>
                  <div class="field">
                    <label for={`c-heading-${i}`}>Group heading</label>
                    <input
                      id={`c-heading-${i}`}
                      value={d.heading}
                      onInput={(e) => change(i, { heading: (e.target as HTMLInputElement).value })}
                    />
                  </div>
                  <span class="actions">
                    <button type="button" class="small" disabled={i === 0} onClick={() => move(i, -1)}>
                      Up<span class="visually-hidden"> {d.name}</span>
                    </button>
                    <button
                      type="button"
                      class="small"
                      disabled={i === draft.length - 1}
                      onClick={() => move(i, 1)}
                    >
                      Down<span class="visually-hidden"> {d.name}</span>
                    </button>
                    <button
                      type="button"
                      class="small danger"
                      onClick={() => {
                        setDraft(draft.filter((_, j) => j !== i));
                        setStatus(`${d.name} removed`);
                      }}
                    >
                      Remove<span class="visually-hidden"> {d.name}</span>
                    </button>
                  </span>
                </>
              ) : (
                <strong>
                  {d.heading ? `${d.heading} › ` : ""}
                  {d.name}
                </strong>
              )}
            </li>
          ))}
        </ol>
        {props.writer && (
          <>
            <div class="actions">
              <div class="field">
                <label for="c-add">Add a check or host</label>
                <select
                  id="c-add"
                  value={adding || `${available[0]?.type}:${available[0]?.id}`}
                  onChange={(e) => setAdding((e.target as HTMLSelectElement).value)}
                >
                  {available.map((s) => (
                    <option key={`${s.type}:${s.id}`} value={`${s.type}:${s.id}`}>
                      {s.type}: {s.name}
                      {s.public ? "" : " (made public on save)"}
                    </option>
                  ))}
                </select>
              </div>
              <button type="button" class="small" disabled={available.length === 0} onClick={add}>
                Add component
              </button>
            </div>
            <ErrorNote error={save.error} />
            <button type="submit" disabled={save.busy}>
              Save components
            </button>
          </>
        )}
        <p role="status" class="muted">
          {status ?? ""}
        </p>
      </form>
    </section>
  );
}

/** Checkboxes of the public checks and hosts an incident or maintenance affects; none means the project. */
function Affects({ form, subjects }: { form: string; subjects: Subject[] }) {
  const shown = subjects.filter((s) => s.public);
  return (
    <fieldset>
      <legend>Affects (none ticked: the whole project)</legend>
      {shown.length === 0 && <p class="muted">No public checks or hosts yet.</p>}
      {shown.map((s) => (
        <Checkbox
          key={`${s.type}:${s.id}`}
          form={form}
          label={`${s.type}: ${s.name}`}
          name={`affects-${s.type}-${s.id}`}
          value={`${s.type}:${s.id}`}
        />
      ))}
    </fieldset>
  );
}

const affectsOf = (f: FormData) =>
  [...f.entries()]
    .filter(([k]) => k.startsWith("affects-"))
    .map(([, v]) => {
      const [type, id] = String(v).split(":");
      return { type, id };
    });

function Incidents() {
  const { projectId, role } = useProject();
  const path = projectPath(projectId, "/status-incidents");
  const incidents = useQuery<{ incidents: StatusIncident[] }>(`${path}?limit=50`);
  const subjects = useSubjects();
  const names = new Map(subjects.map((s) => [`${s.type}:${s.id}`, s.name]));
  const writer = can(role, "write");
  const create = useForm(async (f) => {
    await post(path, {
      title: text(f, "title"),
      impact: text(f, "impact"),
      status: text(f, "status"),
      message: text(f, "message"),
      affects: affectsOf(f),
    });
    (document.getElementById("new-incident-form") as HTMLFormElement | null)?.reset();
    await invalidate(path);
  });
  const list = incidents.data?.incidents ?? [];
  return (
    <section aria-labelledby="incidents">
      <h2 id="incidents">Incidents</h2>
      <ErrorNote error={incidents.error} />
      {list.length === 0 ? (
        <p class="muted">No incidents. Automatic ones open and resolve with public checks.</p>
      ) : (
        <ul class="cards" data-testid="incidents">
          {list.map((i) => (
            <li key={i.id} class="card incident">
              <div class="card-head">
                <strong>{i.title}</strong>
                <Badge
                  tone={i.resolvedAt ? "ok" : i.impact === "none" || i.impact === "minor" ? "warn" : "bad"}
                >
                  {i.status}
                </Badge>
              </div>
              <p class="muted">
                {i.automatic ? "automatic · " : ""}
                {i.impact} impact · since {when(i.startedAt)}
                {i.affects.length > 0 &&
                  ` · ${i.affects.map((a) => names.get(`${a.type}:${a.id}`) ?? a.type).join(", ")}`}
              </p>
              <ol reversed>
                {[...i.updates].reverse().map((u) => (
                  <li key={u.at}>
                    <strong>{u.status}</strong> <span class="muted">{when(u.at)}</span>
                    <br />
                    <span class="wrap">{u.message}</span>
                  </li>
                ))}
              </ol>
              {writer && !i.resolvedAt && <IncidentUpdate path={`${path}/${i.id}/updates`} title={i.title} />}
            </li>
          ))}
        </ul>
      )}
      {writer && (
        <form
          id="new-incident-form"
          class="stack form-card"
          onSubmit={create.onSubmit}
          aria-labelledby="new-incident"
        >
          <h3 id="new-incident">Write an incident</h3>
          <Input
            form="incident"
            label="Incident title"
            name="title"
            required
            error={create.errorFor("title")}
          />
          <Select form="incident" label="Impact" name="impact" value="minor" options={IMPACTS} />
          <Select form="incident" label="Progress" name="status" value="investigating" options={PROGRESS} />
          <TextArea
            form="incident"
            label="What is happening"
            name="message"
            required
            error={create.errorFor("message")}
          />
          <Affects form="incident" subjects={subjects} />
          <ErrorNote error={create.formError(["title", "message"])} />
          <button type="submit" disabled={create.busy}>
            Post incident
          </button>
        </form>
      )}
    </section>
  );
}

function IncidentUpdate({ path, title }: { path: string; title: string }) {
  const [open, setOpen] = useState(false);
  const form = useForm(async (f) => {
    await post(path, { status: text(f, "status"), message: text(f, "message") });
    setOpen(false);
    await invalidate(path.replace(/\/[^/]+\/updates$/, ""));
  });
  if (!open)
    return (
      <button type="button" class="small" onClick={() => setOpen(true)}>
        Post update<span class="visually-hidden"> to {title}</span>
      </button>
    );
  const id = `upd-${path.split("/").at(-2)}`;
  return (
    <form class="stack" onSubmit={form.onSubmit} aria-label={`Update to ${title}`}>
      <Select form={id} label="Progress" name="status" value="monitoring" options={PROGRESS} />
      <TextArea form={id} label="Update" name="message" required />
      <ErrorNote error={form.error} />
      <div class="actions">
        <button type="submit" class="small" disabled={form.busy}>
          Post update
        </button>
        <button type="button" class="small" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** `<input type="datetime-local">` speaks the browser's local time; the API speaks epoch ms. */
const localInput = (ms: number) => {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
};

function MaintenanceList() {
  const { projectId, role } = useProject();
  const path = projectPath(projectId, "/status-maintenance");
  const maintenance = useQuery<{ maintenance: Maintenance[] }>(path);
  const subjects = useSubjects();
  const writer = can(role, "write");
  const hour = 3_600_000;
  const start = Math.ceil(Date.now() / hour) * hour + 24 * hour;
  const create = useForm(async (f) => {
    await post(path, {
      title: text(f, "title"),
      description: text(f, "description") ?? "",
      startsAt: new Date(text(f, "startsAt") ?? "").getTime(),
      endsAt: new Date(text(f, "endsAt") ?? "").getTime(),
      affects: affectsOf(f),
    });
    (document.getElementById("new-maintenance-form") as HTMLFormElement | null)?.reset();
    await invalidate(path);
  });
  const list = maintenance.data?.maintenance ?? [];
  return (
    <section aria-labelledby="maintenance">
      <h2 id="maintenance">Scheduled maintenance</h2>
      <ErrorNote error={maintenance.error} />
      {list.length === 0 ? (
        <p class="muted">None scheduled.</p>
      ) : (
        <ul class="cards">
          {list.map((m) => (
            <li key={m.id} class="card">
              <div class="card-head">
                <strong>{m.title}</strong>
                <Badge tone={m.endsAt < Date.now() ? "muted" : m.startsAt <= Date.now() ? "warn" : "ok"}>
                  {m.endsAt < Date.now() ? "over" : m.startsAt <= Date.now() ? "now" : "planned"}
                </Badge>
              </div>
              <p class="muted">
                {when(m.startsAt)} – {when(m.endsAt)}
              </p>
              {m.description && <p class="wrap">{m.description}</p>}
              {writer && (
                <ConfirmButton
                  label="Cancel maintenance"
                  confirm={`Remove ${m.title} from status pages?`}
                  onConfirm={async () => {
                    await api(`${path}/${m.id}`, { method: "DELETE" });
                    await invalidate(path);
                  }}
                />
              )}
            </li>
          ))}
        </ul>
      )}
      {writer && (
        <form
          id="new-maintenance-form"
          class="stack form-card"
          onSubmit={create.onSubmit}
          aria-labelledby="new-maintenance"
        >
          <h3 id="new-maintenance">Schedule maintenance</h3>
          <Input
            form="maint"
            label="Maintenance title"
            name="title"
            required
            error={create.errorFor("title")}
          />
          <TextArea form="maint" label="Details" name="description" />
          <Input
            form="maint"
            label="Starts"
            name="startsAt"
            type="datetime-local"
            required
            value={localInput(start)}
            error={create.errorFor("startsAt")}
          />
          <Input
            form="maint"
            label="Ends"
            name="endsAt"
            type="datetime-local"
            required
            value={localInput(start + 2 * hour)}
            error={create.errorFor("endsAt")}
          />
          <Affects form="maint" subjects={subjects} />
          <ErrorNote error={create.formError(["title", "startsAt", "endsAt"])} />
          <button type="submit" disabled={create.busy}>
            Schedule
          </button>
        </form>
      )}
    </section>
  );
}
