import { statfs } from "node:fs/promises";
import type { FilesystemRow } from "@vigil/contract";
import type { NoteSink } from "../notes.ts";
import { readTextIfPresent, underRoot } from "../platform/files.ts";

/** Kernel and memory-backed filesystems: their "size" says nothing about disk space running out. */
const PSEUDO_FILESYSTEMS = new Set([
  "autofs",
  "binfmt_misc",
  "bpf",
  "cgroup",
  "cgroup2",
  "configfs",
  "debugfs",
  "devpts",
  "devtmpfs",
  "efivarfs",
  "fusectl",
  "fuse.gvfsd-fuse",
  "fuse.lxcfs",
  "hugetlbfs",
  "mqueue",
  "nsfs",
  "overlay",
  "proc",
  "pstore",
  "ramfs",
  "rpc_pipefs",
  "securityfs",
  "selinuxfs",
  "squashfs",
  "sysfs",
  "tmpfs",
  "tracefs",
  "iso9660",
]);

/** Mount points owned by container runtimes and snaps: each container's view repeats the host's disks. */
const SKIPPED_MOUNT_PREFIXES = ["/proc", "/sys", "/dev", "/run/credentials/", "/var/lib/docker/", "/snap/"];

export interface MountEntry {
  device: string;
  mount: string;
  fstype: string;
}

/** /proc/mounts escapes space, tab, newline and backslash as octal (\040 …). */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

export function parseMounts(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const [device, mount, fstype] = line.split(" ");
    if (!device || !mount || !fstype) continue;
    entries.push({ device: unescapeMountField(device), mount: unescapeMountField(mount), fstype });
  }
  return entries;
}

/** Real filesystems, one row per device: bind mounts and repeated mounts keep the shortest mount point. */
export function selectRealMounts(entries: MountEntry[]): MountEntry[] {
  const byDevice = new Map<string, MountEntry>();
  for (const entry of entries) {
    if (PSEUDO_FILESYSTEMS.has(entry.fstype)) continue;
    if (SKIPPED_MOUNT_PREFIXES.some((prefix) => entry.mount === prefix || entry.mount.startsWith(prefix))) {
      continue;
    }
    const seen = byDevice.get(entry.device);
    if (!seen || entry.mount.length < seen.mount.length) byDevice.set(entry.device, entry);
  }
  return [...byDevice.values()].sort((a, b) => a.mount.localeCompare(b.mount));
}

export async function readFilesystems(
  rootDir: string,
  ts: number,
  notes: NoteSink,
): Promise<FilesystemRow[]> {
  let mountsText: string | undefined;
  try {
    mountsText =
      (await readTextIfPresent(rootDir, "/proc/self/mounts")) ??
      (await readTextIfPresent(rootDir, "/proc/mounts"));
  } catch (error) {
    notes.failed("filesystems", "/proc/mounts", error);
    return [];
  }
  if (mountsText === undefined) {
    notes.add("filesystems", "/proc/mounts not found");
    return [];
  }
  const rows: FilesystemRow[] = [];
  for (const entry of selectRealMounts(parseMounts(mountsText))) {
    try {
      // Same arithmetic as df: used = blocks - bfree; available excludes the root-reserved blocks.
      const stats = await statfs(underRoot(rootDir, entry.mount));
      if (stats.blocks === 0) continue;
      const row: FilesystemRow = {
        ts,
        mount: entry.mount,
        device: entry.device,
        fstype: entry.fstype,
        sizeBytes: stats.blocks * stats.bsize,
        usedBytes: (stats.blocks - stats.bfree) * stats.bsize,
        availableBytes: stats.bavail * stats.bsize,
      };
      // Some filesystems (btrfs, vfat) report no inode table.
      if (stats.files > 0) {
        row.inodesTotal = stats.files;
        row.inodesUsed = stats.files - stats.ffree;
      }
      rows.push(row);
    } catch (error) {
      notes.failed("filesystems", `statfs ${entry.mount}`, error);
    }
  }
  return rows;
}
