/**
 * Request headers people configure (a webhook's, an HTTP check's) often carry credentials: Authorization,
 * API keys. The API shows their names and masks their values; a client that sends the mask back (a form
 * showing what it read) keeps the stored value, so editing one header does not overwrite the others.
 */

/** What the API shows in place of a configured header's value. */
export const REDACTED_HEADER_VALUE = "********";

export function redactHeaderValues(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(headers).map((name) => [name, REDACTED_HEADER_VALUE]));
}

/** Headers as sent in an update: a masked value keeps what is stored under that name. */
export function keepRedactedHeaders(
  sent: Record<string, string>,
  stored: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(sent).map(([name, value]) => [
      name,
      value === REDACTED_HEADER_VALUE ? (stored[name] ?? value) : value,
    ]),
  );
}
