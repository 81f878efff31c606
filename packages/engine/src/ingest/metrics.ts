/**
 * The metric catalogue: how each number in a probe batch becomes a named series, and how that series is
 * exported to Prometheus. One table, so storage names and exposition names never drift apart.
 */
import type {
  CustomSample,
  DiskRow,
  FilesystemRow,
  HostSample,
  InterfaceRow,
  ProbeBatchV1,
} from "@vigil/contract";

export interface MetricDef {
  /** storage name, e.g. `cpu.iowait_pct` */
  name: string;
  /** Prometheus family name */
  prom: string;
  help: string;
}

type Reader<T> = (row: T) => number | undefined;
interface Def<T> extends MetricDef {
  read: Reader<T>;
}

const def = <T>(name: string, prom: string, help: string, read: Reader<T>): Def<T> => ({
  name,
  prom,
  help,
  read,
});

const hostMetrics: Def<HostSample>[] = [
  def("cpu.user_pct", "vigil_cpu_user_percent", "CPU time in user mode, percent", (s) => s.cpu?.userPct),
  def(
    "cpu.system_pct",
    "vigil_cpu_system_percent",
    "CPU time in kernel mode, percent",
    (s) => s.cpu?.systemPct,
  ),
  def(
    "cpu.iowait_pct",
    "vigil_cpu_iowait_percent",
    "CPU time waiting for I/O, percent",
    (s) => s.cpu?.iowaitPct,
  ),
  def(
    "cpu.steal_pct",
    "vigil_cpu_steal_percent",
    "CPU time stolen by the hypervisor, percent",
    (s) => s.cpu?.stealPct,
  ),
  def("cpu.idle_pct", "vigil_cpu_idle_percent", "CPU time idle, percent", (s) => s.cpu?.idlePct),
  def("load.1", "vigil_load1", "1-minute load average", (s) => s.load1),
  def("load.5", "vigil_load5", "5-minute load average", (s) => s.load5),
  def("load.15", "vigil_load15", "15-minute load average", (s) => s.load15),
  def("procs.running", "vigil_procs_running", "Runnable processes", (s) => s.procsRunning),
  def("procs.total", "vigil_procs", "Processes", (s) => s.procsTotal),
  def("threads.total", "vigil_threads", "Threads", (s) => s.threadsTotal),
  def(
    "ctxt.per_sec",
    "vigil_context_switches_per_second",
    "Context switches per second",
    (s) => s.contextSwitchesPerSec,
  ),
  def(
    "psi.cpu_some_pct",
    "vigil_pressure_cpu_some_percent",
    "CPU pressure (some, avg10), percent",
    (s) => s.pressure?.cpuSomePct,
  ),
  def(
    "psi.memory_some_pct",
    "vigil_pressure_memory_some_percent",
    "Memory pressure (some, avg10), percent",
    (s) => s.pressure?.memorySomePct,
  ),
  def(
    "psi.memory_full_pct",
    "vigil_pressure_memory_full_percent",
    "Memory pressure (full, avg10), percent",
    (s) => s.pressure?.memoryFullPct,
  ),
  def(
    "psi.io_some_pct",
    "vigil_pressure_io_some_percent",
    "I/O pressure (some, avg10), percent",
    (s) => s.pressure?.ioSomePct,
  ),
  def(
    "psi.io_full_pct",
    "vigil_pressure_io_full_percent",
    "I/O pressure (full, avg10), percent",
    (s) => s.pressure?.ioFullPct,
  ),
  def("mem.total_bytes", "vigil_memory_total_bytes", "Memory size in bytes", (s) => s.memory?.totalBytes),
  def(
    "mem.available_bytes",
    "vigil_memory_available_bytes",
    "Memory available in bytes",
    (s) => s.memory?.availableBytes,
  ),
  def("mem.used_bytes", "vigil_memory_used_bytes", "Memory used in bytes", (s) => s.memory?.usedBytes),
  def(
    "mem.buffers_bytes",
    "vigil_memory_buffers_bytes",
    "Memory in buffers, bytes",
    (s) => s.memory?.buffersBytes,
  ),
  def(
    "mem.cached_bytes",
    "vigil_memory_cached_bytes",
    "Memory in page cache, bytes",
    (s) => s.memory?.cachedBytes,
  ),
  def("mem.available_pct", "vigil_memory_available_percent", "Memory available, percent of total", (s) =>
    s.memory?.availableBytes !== undefined && s.memory.totalBytes
      ? (100 * s.memory.availableBytes) / s.memory.totalBytes
      : undefined,
  ),
  def("swap.total_bytes", "vigil_swap_total_bytes", "Swap size in bytes", (s) => s.memory?.swapTotalBytes),
  def("swap.used_bytes", "vigil_swap_used_bytes", "Swap used in bytes", (s) => s.memory?.swapUsedBytes),
  def("uptime.seconds", "vigil_uptime_seconds", "Seconds since boot", (s) => s.uptimeSec),
  def("fds.open", "vigil_open_fds", "Allocated file handles", (s) => s.openFds),
];

const filesystemMetrics: Def<FilesystemRow>[] = [
  def("fs.size_bytes", "vigil_filesystem_size_bytes", "Filesystem size in bytes", (f) => f.sizeBytes),
  def("fs.used_bytes", "vigil_filesystem_used_bytes", "Filesystem space used in bytes", (f) => f.usedBytes),
  def(
    "fs.available_bytes",
    "vigil_filesystem_available_bytes",
    "Filesystem space available to users, bytes",
    (f) => f.availableBytes,
  ),
  // As df computes it: used over what users can have, so a full disk reads 100 even with root's reserve left.
  def(
    "fs.used_pct",
    "vigil_filesystem_used_percent",
    "Filesystem space used, percent (as df shows it)",
    (f) =>
      f.usedBytes + f.availableBytes > 0 ? (100 * f.usedBytes) / (f.usedBytes + f.availableBytes) : undefined,
  ),
  def("fs.inodes_total", "vigil_filesystem_inodes", "Filesystem inodes", (f) => f.inodesTotal),
  def("fs.inodes_used", "vigil_filesystem_inodes_used", "Filesystem inodes used", (f) => f.inodesUsed),
];

const diskMetrics: Def<DiskRow>[] = [
  def(
    "disk.read_bytes_per_sec",
    "vigil_disk_read_bytes_per_second",
    "Bytes read per second",
    (d) => d.readBytesPerSec,
  ),
  def(
    "disk.write_bytes_per_sec",
    "vigil_disk_written_bytes_per_second",
    "Bytes written per second",
    (d) => d.writeBytesPerSec,
  ),
  def(
    "disk.read_ops_per_sec",
    "vigil_disk_reads_per_second",
    "Reads completed per second",
    (d) => d.readOpsPerSec,
  ),
  def(
    "disk.write_ops_per_sec",
    "vigil_disk_writes_per_second",
    "Writes completed per second",
    (d) => d.writeOpsPerSec,
  ),
  def(
    "disk.busy_pct",
    "vigil_disk_busy_percent",
    "Time the device had I/O in flight, percent",
    (d) => d.busyPct,
  ),
];

const interfaceMetrics: Def<InterfaceRow>[] = [
  def(
    "net.rx_bytes_per_sec",
    "vigil_network_receive_bytes_per_second",
    "Bytes received per second",
    (n) => n.rxBytesPerSec,
  ),
  def(
    "net.tx_bytes_per_sec",
    "vigil_network_transmit_bytes_per_second",
    "Bytes sent per second",
    (n) => n.txBytesPerSec,
  ),
  def(
    "net.rx_errors_per_sec",
    "vigil_network_receive_errors_per_second",
    "Receive errors per second",
    (n) => n.rxErrorsPerSec,
  ),
  def(
    "net.tx_errors_per_sec",
    "vigil_network_transmit_errors_per_second",
    "Transmit errors per second",
    (n) => n.txErrorsPerSec,
  ),
  def(
    "net.rx_drops_per_sec",
    "vigil_network_receive_drops_per_second",
    "Receive drops per second",
    (n) => n.rxDropsPerSec,
  ),
  def(
    "net.tx_drops_per_sec",
    "vigil_network_transmit_drops_per_second",
    "Transmit drops per second",
    (n) => n.txDropsPerSec,
  ),
];

export const METRICS: ReadonlyMap<string, MetricDef> = new Map(
  [...hostMetrics, ...filesystemMetrics, ...diskMetrics, ...interfaceMetrics].map((d) => [d.name, d]),
);

/** One reading of one series. `labels` is canonical JSON (sorted keys) so it can be part of a key. */
export interface MetricPoint {
  name: string;
  labels: string;
  ts: number;
  value: number;
  /** a custom series' family type; absent for built-in metrics */
  kind?: string;
}

export function canonicalLabels(labels: Record<string, string | undefined>): string {
  const entries = Object.entries(labels)
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== "")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(entries));
}

function collect<T extends { ts: number }>(
  out: MetricPoint[],
  rows: readonly T[],
  defs: readonly Def<T>[],
  labelsOf: (row: T) => string,
) {
  for (const row of rows) {
    const labels = labelsOf(row);
    for (const d of defs) {
      const value = d.read(row);
      if (value !== undefined && Number.isFinite(value))
        out.push({ name: d.name, labels, ts: row.ts, value });
    }
  }
}

const NO_LABELS = canonicalLabels({});

/** Every number in a batch as a series point; values a collector left out stay out. */
export function flattenMetrics(batch: ProbeBatchV1): MetricPoint[] {
  const out: MetricPoint[] = [];
  collect(out, batch.samples, hostMetrics, () => NO_LABELS);
  collect(out, batch.filesystems, filesystemMetrics, (f) =>
    canonicalLabels({ mount: f.mount, device: f.device, fstype: f.fstype }),
  );
  collect(out, batch.disks, diskMetrics, (d) => canonicalLabels({ device: d.device }));
  collect(out, batch.interfaces, interfaceMetrics, (n) => canonicalLabels({ interface: n.name }));
  addCustomPoints(out, batch.customMetrics);
  return out;
}

/**
 * Custom samples (scraped or pushed) as points: the name as exposed, labels in canonical form, the family
 * type kept so counters become rates and buckets quantiles. An empty label value is no label, as in
 * Prometheus. Custom names have no dot, so they never meet a built-in name.
 */
export function addCustomPoints(out: MetricPoint[], samples: readonly CustomSample[]): MetricPoint[] {
  for (const s of samples) {
    if (Number.isFinite(s.value))
      out.push({ name: s.name, labels: canonicalLabels(s.labels), ts: s.ts, value: s.value, kind: s.kind });
  }
  return out;
}
