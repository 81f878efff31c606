/** Sizes as alerts and rule descriptions write them: decimal units, one decimal ("5.2 GB"). */
export function formatBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Math.round(v * 10) / 10} ${units[i]}`;
}
