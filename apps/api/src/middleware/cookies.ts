/** Each Set-Cookie header on its own (workerd has `getSetCookie` like Node; its type package lags behind). */
export function setCookiesOf(headers: Headers): string[] {
  return (headers as Headers & { getSetCookie(): string[] }).getSetCookie();
}
