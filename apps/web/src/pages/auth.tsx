/** Account pages: sign in (with a TOTP step when asked), sign up, forgotten password, reset, invitations. */
import { useState } from "preact/hooks";
import { Link, useLocation, useParams, useSearch } from "wouter-preact";
import { ApiError, post } from "../api.ts";
import { clearCache } from "../query.ts";
import { ErrorNote, Field, useAction } from "../ui.tsx";

const text = (form: FormData, name: string) => String(form.get(name) ?? "");

/** Only a path on this site, so a crafted `?next=` link cannot send someone elsewhere after signing in. */
function safeNext(search: string): string {
  const next = new URLSearchParams(search).get("next") ?? "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

function AuthFrame({ title, children }: { title: string; children: preact.ComponentChildren }) {
  return (
    <main id="main" class="auth">
      <p class="brand">Vigil</p>
      <h1>{title}</h1>
      {children}
    </main>
  );
}

export function SignIn() {
  const search = useSearch();
  const [, navigate] = useLocation();
  const [needsCode, setNeedsCode] = useState(false);
  const done = () => {
    clearCache();
    navigate(safeNext(search), { replace: true });
  };
  const signIn = useAction(async (form) => {
    const res = await post<{ twoFactorRedirect?: boolean }>("/api/auth/sign-in/email", {
      email: text(form, "email"),
      password: text(form, "password"),
    });
    if (res?.twoFactorRedirect) setNeedsCode(true);
    else done();
  });
  const verify = useAction(async (form) => {
    await post("/api/auth/two-factor/verify-totp", { code: text(form, "code") });
    done();
  });
  if (needsCode) {
    return (
      <AuthFrame title="Two-factor code">
        <form onSubmit={verify.onSubmit} class="stack">
          <Field label="Code from your authenticator app" name="code" autocomplete="one-time-code" required />
          <ErrorNote error={verify.error} />
          <button type="submit" disabled={verify.busy}>
            Verify
          </button>
        </form>
      </AuthFrame>
    );
  }
  return (
    <AuthFrame title="Sign in">
      <form onSubmit={signIn.onSubmit} class="stack">
        <Field label="Email" name="email" type="email" autocomplete="email" required />
        <Field label="Password" name="password" type="password" autocomplete="current-password" required />
        <ErrorNote error={signIn.error} />
        <button type="submit" disabled={signIn.busy}>
          Sign in
        </button>
      </form>
      <p>
        <Link href="/forgot-password">Forgot your password?</Link> ·{" "}
        <Link href="/sign-up">Create an account</Link>
      </p>
    </AuthFrame>
  );
}

export function SignUp() {
  const [sent, setSent] = useState<string | null>(null);
  const signUp = useAction(async (form) => {
    await post("/api/auth/sign-up/email", {
      name: text(form, "name"),
      email: text(form, "email"),
      password: text(form, "password"),
    });
    setSent(text(form, "email"));
  });
  if (sent) {
    return (
      <AuthFrame title="Account created">
        <p>
          If the server sends email, a verification link is on its way to {sent}. Then{" "}
          <Link href="/sign-in">sign in</Link>.
        </p>
      </AuthFrame>
    );
  }
  return (
    <AuthFrame title="Create an account">
      <form onSubmit={signUp.onSubmit} class="stack">
        <Field label="Name" name="name" autocomplete="name" required />
        <Field label="Email" name="email" type="email" autocomplete="email" required />
        <Field
          label="Password"
          name="password"
          type="password"
          autocomplete="new-password"
          minLength={10}
          hint="At least 10 characters."
          required
        />
        <ErrorNote error={signUp.error} />
        <button type="submit" disabled={signUp.busy}>
          Create account
        </button>
      </form>
      <p>
        Already have one? <Link href="/sign-in">Sign in</Link>
      </p>
    </AuthFrame>
  );
}

export function ForgotPassword() {
  const [sent, setSent] = useState(false);
  const request = useAction(async (form) => {
    await post("/api/auth/request-password-reset", {
      email: text(form, "email"),
      redirectTo: `${location.origin}/reset-password`,
    });
    setSent(true);
  });
  return (
    <AuthFrame title="Forgot your password?">
      {sent ? (
        <p role="status">If that address has an account, a reset link is on its way.</p>
      ) : (
        <form onSubmit={request.onSubmit} class="stack">
          <Field label="Email" name="email" type="email" autocomplete="email" required />
          <ErrorNote error={request.error} />
          <button type="submit" disabled={request.busy}>
            Send reset link
          </button>
        </form>
      )}
      <p>
        <Link href="/sign-in">Back to sign in</Link>
      </p>
    </AuthFrame>
  );
}

export function ResetPassword() {
  const token = new URLSearchParams(useSearch()).get("token") ?? "";
  const [done, setDone] = useState(false);
  const reset = useAction(async (form) => {
    await post("/api/auth/reset-password", { newPassword: text(form, "password"), token });
    setDone(true);
  });
  return (
    <AuthFrame title="Choose a new password">
      {done ? (
        <p role="status">
          Password changed. <Link href="/sign-in">Sign in</Link>
        </p>
      ) : token ? (
        <form onSubmit={reset.onSubmit} class="stack">
          <Field
            label="New password"
            name="password"
            type="password"
            autocomplete="new-password"
            minLength={10}
            required
          />
          <ErrorNote error={reset.error} />
          <button type="submit" disabled={reset.busy}>
            Set password
          </button>
        </form>
      ) : (
        <p class="error">This link has no token. Ask for a new one from “Forgot your password?”.</p>
      )}
    </AuthFrame>
  );
}

export function AcceptInvite() {
  const { id } = useParams<{ id: string }>();
  const [, navigate] = useLocation();
  const accept = useAction(async () => {
    try {
      await post("/api/auth/organization/accept-invitation", { invitationId: id });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        navigate(`/sign-in?next=${encodeURIComponent(`/invite/${id}`)}`);
        return;
      }
      throw err;
    }
    clearCache();
    navigate("/");
  });
  return (
    <AuthFrame title="Join an organisation">
      <p>
        You were invited to an organisation on Vigil. Sign in (or create an account) with the invited address,
        then accept.
      </p>
      <form onSubmit={accept.onSubmit} class="stack">
        <ErrorNote error={accept.error} />
        <button type="submit" disabled={accept.busy}>
          Accept invitation
        </button>
      </form>
      <p>
        <Link href={`/sign-in?next=${encodeURIComponent(`/invite/${id}`)}`}>Sign in</Link> ·{" "}
        <Link href="/sign-up">Create an account</Link>
      </p>
    </AuthFrame>
  );
}
