/** Small shared pieces: form fields, copy buttons, empty states and the way figures are written. */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { ApiError } from "./api.ts";

export function Field(props: {
  label: string;
  name: string;
  type?: string;
  value?: string;
  required?: boolean;
  autocomplete?: string;
  placeholder?: string;
  hint?: string;
  minLength?: number;
}) {
  const id = `f-${props.name}`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        // A starting value, not a controlled one: Preact puts `value` back on every re-render, and the
        // pages re-render on each 5 s poll, which would undo what someone is typing.
        defaultValue={props.value}
        required={props.required}
        autoComplete={props.autocomplete}
        placeholder={props.placeholder}
        minLength={props.minLength}
        aria-describedby={props.hint ? `${id}-hint` : undefined}
      />
      {props.hint && (
        <small id={`${id}-hint`} class="muted">
          {props.hint}
        </small>
      )}
    </div>
  );
}

/** Runs a form's submit as one async action: disables the button, shows the API's message on failure. */
export function useAction<T>(run: (form: FormData) => Promise<T>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await run(new FormData(e.currentTarget as HTMLFormElement));
    } catch (err) {
      setError(err instanceof ApiError || err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, onSubmit, setError };
}

export function ErrorNote({ error }: { error: string | Error | null | undefined }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {typeof error === "string" ? error : error.message}
    </p>
  );
}

export function CopyField({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div class="copy">
      <span class="copy-label">{label}</span>
      <code>{value}</code>
      <button type="button" class="small" onClick={copy}>
        {copied ? "Copied" : "Copy"}
        <span class="visually-hidden"> {label}</span>
      </button>
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <section class="empty">
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export function Badge({
  tone,
  children,
}: {
  tone: "ok" | "warn" | "bad" | "muted";
  children: ComponentChildren;
}) {
  return <span class={`badge ${tone}`}>{children}</span>;
}

export const pct = (v: number | undefined) => (v === undefined ? "—" : `${v.toFixed(v < 10 ? 1 : 0)}%`);

export function ago(ts: number | null | undefined, now = Date.now()): string {
  if (!ts) return "never";
  const s = Math.round((now - ts) / 1000);
  if (s < 0) return `in ${duration(-s)}`;
  if (s < 5) return "just now";
  return `${duration(s)} ago`;
}

export function duration(sec: number): string {
  if (sec < 60) return `${sec}s`;
  if (sec < 3600) return `${Math.round(sec / 60)} min`;
  if (sec < 86_400) return `${Math.round(sec / 360) / 10} h`;
  return `${Math.round(sec / 8640) / 10} d`;
}

export function bytes(n: number | undefined): string {
  if (n === undefined) return "—";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (Math.abs(n) >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(n < 10 && i > 0 ? 1 : 0)} ${units[i]}`;
}

export const when = (ts: number | null | undefined) => (ts ? new Date(ts).toLocaleString() : "—");
