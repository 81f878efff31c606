/**
 * Form controls of the configuration screens: each with its label, an optional hint, and the API's refusal
 * shown under the very field it names (`body.url: …` lands under the URL), so a long form says where to look.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { useAction } from "./ui.tsx";
import "./configure.css";

interface Common {
  label: string;
  name: string;
  /** the form's id, keeping ids unique when two forms on a screen share field names */
  form?: string;
  hint?: string;
  /** the refusal the API gave, when it names this field */
  error?: string | null;
  required?: boolean;
}

const idOf = (p: Common) => `${p.form ?? "f"}-${p.name}`;

function described(p: Common) {
  const id = idOf(p);
  const ids = [p.hint ? `${id}-hint` : "", p.error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return { id, "aria-describedby": ids || undefined, "aria-invalid": p.error ? true : undefined };
}

function Notes(p: Common) {
  const id = idOf(p);
  return (
    <>
      {p.hint && (
        <small id={`${id}-hint`} class="muted">
          {p.hint}
        </small>
      )}
      {p.error && (
        <small id={`${id}-error`} class="field-error">
          {p.error}
        </small>
      )}
    </>
  );
}

export function Input(
  p: Common & {
    type?: string;
    value?: string | number | null;
    placeholder?: string;
    min?: number;
    max?: number;
    onInput?: (value: string) => void;
    list?: string;
    autocomplete?: string;
  },
) {
  return (
    <div class="field">
      <label for={idOf(p)}>{p.label}</label>
      <input
        {...described(p)}
        name={p.name}
        type={p.type ?? "text"}
        // Preact re-applies `value` on every render, wiping what was typed since; a field nobody drives from
        // state only takes its starting value.
        {...(p.onInput ? { value: p.value ?? "" } : { defaultValue: p.value == null ? "" : String(p.value) })}
        required={p.required}
        placeholder={p.placeholder}
        min={p.min}
        max={p.max}
        list={p.list}
        autoComplete={p.autocomplete}
        step={p.type === "number" ? "any" : undefined}
        onInput={p.onInput ? (e) => p.onInput?.((e.target as HTMLInputElement).value) : undefined}
      />
      <Notes {...p} />
    </div>
  );
}

export function TextArea(
  p: Common & {
    value?: string | null;
    rows?: number;
    placeholder?: string;
    /** makes it driven by state, like Input's */
    onInput?: (value: string) => void;
  },
) {
  return (
    <div class="field">
      <label for={idOf(p)}>{p.label}</label>
      <textarea
        {...described(p)}
        name={p.name}
        rows={p.rows ?? 3}
        required={p.required}
        placeholder={p.placeholder}
        {...(p.onInput ? { value: p.value ?? "" } : { defaultValue: p.value ?? "" })}
        onInput={p.onInput ? (e) => p.onInput?.((e.target as HTMLTextAreaElement).value) : undefined}
      />
      <Notes {...p} />
    </div>
  );
}

export function Select(
  p: Common & {
    value?: string;
    options: readonly (string | [value: string, label: string])[];
    onChange?: (value: string) => void;
  },
) {
  return (
    <div class="field">
      <label for={idOf(p)}>{p.label}</label>
      <select
        {...described(p)}
        name={p.name}
        value={p.onChange ? p.value : undefined}
        onChange={p.onChange ? (e) => p.onChange?.((e.target as HTMLSelectElement).value) : undefined}
      >
        {p.options.map((o) => {
          const [value, label] = typeof o === "string" ? [o, o] : o;
          return (
            <option key={value} value={value} selected={p.onChange ? undefined : value === p.value}>
              {label}
            </option>
          );
        })}
      </select>
      <Notes {...p} />
    </div>
  );
}

export function Checkbox(p: Common & { checked?: boolean; value?: string }) {
  return (
    <div class="field check">
      <label>
        {/* A starting state, like the other fields: a poll's re-render must not untick what someone ticked. */}
        <input
          {...described(p)}
          type="checkbox"
          name={p.name}
          value={p.value ?? "on"}
          defaultChecked={p.checked}
        />{" "}
        {p.label}
      </label>
      <Notes {...p} />
    </div>
  );
}

/**
 * A form's submit as one async action, like ui.tsx's useAction, that also tells which field the API's
 * refusal names: its messages start with the path (`body.url: …`, `body.components.2.id: …`).
 */
export function useForm<T>(run: (form: FormData) => Promise<T>) {
  const { busy, error, onSubmit, setError } = useAction(run);
  const field = error?.match(/^(?:body|query)\.([A-Za-z]+)/)?.[1] ?? null;
  /** the refusal when it names `name`, for that field to show */
  const errorFor = (name: string) => (field === name ? error : null);
  /** the refusal when no field shown on the form took it */
  const formError = (shown: readonly string[]) => (field && shown.includes(field) ? null : error);
  return { busy, error, onSubmit, errorFor, formError, setError };
}

/** A destructive button that asks once more in place (no modal, so focus and the keyboard stay put). */
export function ConfirmButton(props: {
  label: string;
  confirm: string;
  onConfirm: () => Promise<unknown>;
  children?: ComponentChildren;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const yes = useRef<HTMLButtonElement>(null);
  // The question replaces the button that had focus; the answer takes it so the keyboard stays here.
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  if (!asking)
    return (
      <button type="button" class="small danger" onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  return (
    <span class="confirm">
      <span>{props.confirm}</span>{" "}
      <button
        type="button"
        class="small danger"
        disabled={busy}
        ref={yes}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            await props.onConfirm();
            setAsking(false);
          } catch (err) {
            setError((err as Error).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        Yes, {props.label.toLowerCase()}
      </button>{" "}
      <button type="button" class="small" onClick={() => setAsking(false)}>
        Cancel
      </button>
      {error && (
        <span class="field-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}

/** The form's value as a trimmed string, null when empty. */
export const text = (form: FormData, name: string) => {
  const v = String(form.get(name) ?? "").trim();
  return v === "" ? null : v;
};
/** The form's value as a number, null when empty. */
export const num = (form: FormData, name: string) => {
  const v = text(form, name);
  return v === null ? null : Number(v);
};
/** Comma- or newline-separated values, empty ones dropped. */
export const list = (value: string | null) =>
  (value ?? "")
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
