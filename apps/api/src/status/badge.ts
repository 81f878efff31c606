import { escapeXml } from "./format.ts";

/** Shields-style SVG badges: a grey label and a coloured message, readable without fonts measured. */

/** Verdana 11px averages about 7 px a character; generous, so text never overflows. */
const textWidth = (s: string) => Math.round(s.length * 7 + 10);

export function badgeSvg(label: string, message: string, colour: string): string {
  const lw = textWidth(label);
  const mw = textWidth(message);
  const w = lw + mw;
  const l = escapeXml(label);
  const m = escapeXml(message);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${l}: ${m}"><title>${l}: ${m}</title><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${mw}" height="20" fill="${colour}"/><g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle"><text x="${lw / 2}" y="14">${l}</text><text x="${lw + mw / 2}" y="14">${m}</text></g></svg>`;
}
