/**
 * Routes and the frame around them. Account pages stand alone; everything else lives under
 * `/p/:projectId/…` and needs a session (`GET /api/v1/me` answering 401 sends the person to sign in).
 */
import type { RoleName } from "@vigil/contract";
import { createContext } from "preact";
import { useContext, useEffect } from "preact/hooks";
import { Link, Redirect, Route, Switch, useLocation, useParams } from "wouter-preact";
import { ApiError, type Me, post } from "./api.ts";
import { AlertsPage } from "./pages/alerts.tsx";
import { AcceptInvite, ForgotPassword, ResetPassword, SignIn, SignUp } from "./pages/auth.tsx";
import { BackupsPage } from "./pages/backups.tsx";
import { ChannelsPage } from "./pages/channels.tsx";
import { CheckPage, ChecksPage } from "./pages/checks.tsx";
import { HostPage } from "./pages/host.tsx";
import { LogsPage } from "./pages/logs.tsx";
import { NewProject } from "./pages/new-project.tsx";
import { Overview } from "./pages/overview.tsx";
import { RunPage } from "./pages/runbook-run.tsx";
import { NewRunbookPage, RunbookPage, RunbooksPage } from "./pages/runbooks.tsx";
import { AuditLogPage, MyInvitations, SettingsPage } from "./pages/settings.tsx";
import { StatusPageEditor, StatusPagesPage } from "./pages/status-pages.tsx";
import { clearCache, useQuery } from "./query.ts";
import { ThemeToggle } from "./theme.tsx";
import { ErrorNote } from "./ui.tsx";

export interface ProjectContext {
  projectId: string;
  projectName: string;
  orgId: string;
  role: RoleName;
  pingKey: string;
  me: Me;
}

const Project = createContext<ProjectContext | null>(null);

export function useProject(): ProjectContext {
  const project = useContext(Project);
  if (!project) throw new Error("useProject outside a project route");
  return project;
}

const LAST_PROJECT = "vigil.project";

export function App() {
  return (
    <Switch>
      <Route path="/sign-in" component={SignIn} />
      <Route path="/sign-up" component={SignUp} />
      <Route path="/forgot-password" component={ForgotPassword} />
      <Route path="/reset-password" component={ResetPassword} />
      <Route path="/invite/:id" component={AcceptInvite} />
      <Route path="/new-project">
        <Signed>{(me) => <NewProject me={me} />}</Signed>
      </Route>
      <Route path="/p/:projectId" nest>
        <Signed>{(me) => <ProjectFrame me={me} />}</Signed>
      </Route>
      <Route path="/">
        <Signed>{(me) => <PickProject me={me} />}</Signed>
      </Route>
      <Route>
        <main id="main" class="narrow">
          <h1>Page not found</h1>
          <p>
            <Link href="/">Back to the dashboard</Link>
          </p>
        </main>
      </Route>
    </Switch>
  );
}

/** Renders its children with the signed-in person, or sends them to sign in and back here afterwards. */
function Signed({ children }: { children: (me: Me) => preact.ComponentChildren }) {
  const me = useQuery<Me>("/api/v1/me", { pollMs: 60_000 });
  const [, navigate] = useLocation();
  const signedOut = me.error instanceof ApiError && me.error.status === 401;
  useEffect(() => {
    // The full path, not the nested route's relative one, so signing in comes back to the same page.
    const here = window.location.pathname + window.location.search;
    if (signedOut) navigate(`~/sign-in?next=${encodeURIComponent(here)}`, { replace: true });
  }, [signedOut]);
  if (me.data) return <>{children(me.data)}</>;
  if (me.error && !signedOut)
    return (
      <main id="main" class="narrow">
        <ErrorNote error={me.error} />
      </main>
    );
  return (
    <main id="main" class="narrow" aria-busy="true">
      <p class="muted">Loading…</p>
    </main>
  );
}

function PickProject({ me }: { me: Me }) {
  const projects = me.organizations.flatMap((o) => o.projects);
  const last = localStorage.getItem(LAST_PROJECT);
  const target = projects.find((p) => p.id === last) ?? projects[0];
  if (target) return <Redirect to={`/p/${target.id}`} replace />;
  return (
    <main id="main" class="narrow">
      <h1>No projects yet</h1>
      <p>You are not a member of any organisation. Ask an owner to invite {me.user.email}.</p>
      <MyInvitations />
      <SignOut />
    </main>
  );
}

function ProjectFrame({ me }: { me: Me }) {
  const { projectId } = useParams<{ projectId: string }>();
  const org = me.organizations.find((o) => o.projects.some((p) => p.id === projectId));
  const project = org?.projects.find((p) => p.id === projectId);
  useEffect(() => {
    if (project) localStorage.setItem(LAST_PROJECT, project.id);
  }, [project?.id]);
  if (!org || !project) {
    return (
      <main id="main" class="narrow">
        <h1>Project not found</h1>
        <p>
          It does not exist or you are not a member. <Link href="~/">Open your projects</Link>
        </p>
      </main>
    );
  }
  const context: ProjectContext = {
    projectId,
    projectName: project.name,
    orgId: org.id,
    role: org.role,
    pingKey: project.pingKey,
    me,
  };
  return (
    <Project.Provider value={context}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/" class="brand">
          Vigil
        </Link>
        <ProjectSwitcher me={me} current={projectId} />
        <nav aria-label="Project">
          <NavLink href="/">Overview</NavLink>
          <NavLink href="/checks">Checks</NavLink>
          <NavLink href="/logs">Logs</NavLink>
          <NavLink href="/backups">Backups</NavLink>
          <NavLink href="/alerts">Alerts</NavLink>
          <NavLink href="/runbooks" also="/runbook-runs">
            Runbooks
          </NavLink>
          <NavLink href="/channels">Channels</NavLink>
          <NavLink href="/status-pages">Status pages</NavLink>
          <NavLink href="/settings">Settings</NavLink>
        </nav>
        <div class="top-end">
          <ThemeToggle />
          <SignOut />
        </div>
      </header>
      <main id="main">
        <Switch>
          <Route path="/" component={Overview} />
          <Route path="/hosts/:hostId" component={HostPage} />
          <Route path="/checks" component={ChecksPage} />
          <Route path="/checks/:checkId" component={CheckPage} />
          <Route path="/channels" component={ChannelsPage} />
          <Route path="/logs" component={LogsPage} />
          <Route path="/backups" component={BackupsPage} />
          <Route path="/alerts/:tab?" component={AlertsPage} />
          <Route path="/runbooks">
            <RunbooksPage />
          </Route>
          <Route path="/runbooks/runs">
            <RunbooksPage tab="runs" />
          </Route>
          <Route path="/runbooks/secrets">
            <RunbooksPage tab="secrets" />
          </Route>
          <Route path="/runbooks/new" component={NewRunbookPage} />
          <Route path="/runbooks/:runbookId" component={RunbookPage} />
          <Route path="/runbook-runs/:runId" component={RunPage} />
          <Route path="/status-pages" component={StatusPagesPage} />
          <Route path="/status-pages/:pageId" component={StatusPageEditor} />
          <Route path="/settings" component={SettingsPage} />
          <Route path="/settings/audit-log" component={AuditLogPage} />
          <Route>
            <h1>Page not found</h1>
          </Route>
        </Switch>
      </main>
    </Project.Provider>
  );
}

function NavLink({ href, children, also }: { href: string; children: string; also?: string }) {
  const [location] = useLocation();
  const current =
    href === "/" ? location === "/" : location.startsWith(href) || (!!also && location.startsWith(also));
  return (
    <Link href={href} aria-current={current ? "page" : undefined}>
      {children}
    </Link>
  );
}

/** The switcher's last option: not a project id (ids are UUIDs), so it cannot collide with one. */
const NEW = "new";

function ProjectSwitcher({ me, current }: { me: Me; current: string }) {
  const [, navigate] = useLocation();
  return (
    <label class="switcher">
      <span class="visually-hidden">Project</span>
      <select
        value={current}
        onChange={(e) => {
          const value = (e.target as HTMLSelectElement).value;
          navigate(value === NEW ? "~/new-project" : `~/p/${value}`);
        }}
      >
        {me.organizations.map((org) => (
          <optgroup key={org.id} label={org.name}>
            {org.projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </optgroup>
        ))}
        {me.organizations.some((o) => o.role === "owner" || o.role === "admin") && (
          <option value={NEW}>+ New project…</option>
        )}
      </select>
    </label>
  );
}

function SignOut() {
  const [, navigate] = useLocation();
  const signOut = async () => {
    await post("/api/auth/sign-out").catch(() => undefined);
    clearCache();
    navigate("~/sign-in");
  };
  return (
    <button type="button" class="ghost" onClick={signOut}>
      Sign out
    </button>
  );
}
