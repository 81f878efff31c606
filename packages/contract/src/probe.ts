/**
 * The probe's wire format, version 1.
 *
 * Compatibility rules, so old servers and new probes (and the reverse) keep working:
 * - `v` names the format. A breaking change gets a new number and a new schema beside this one.
 * - Within v1, fields are only ever added, and only as optional. Unknown keys are stripped on parse, so a
 *   newer probe's extra fields never fail an older server.
 * - Everything a collector could not read is left out (never zero-filled) and explained in `notes`.
 * - Every time is epoch ms within TIME_BOUNDS (years 2000 to 2200); one outside is refused with a 400.
 */
import { z } from "zod";
import { bytes, count, percent, perSecond, shortText, wireTime } from "./common.ts";
import { CUSTOM_METRIC_LIMITS, PROBE_BATCH_LIMITS } from "./limits.ts";
import { DNS_RECORD_TYPES, EDGE } from "./locations.ts";

export { CUSTOM_METRIC_LIMITS, PROBE_BATCH_LIMITS };

export const probeBatchVersion = 1 as const;

/** Check kinds a probe can run for the server as a location (`edge` runs http, tcp, tls and dns). */
export const locationCheckKinds = ["http", "tcp", "tls", "dns", "icmp"] as const;
export type LocationCheckKind = (typeof locationCheckKinds)[number];
export const dnsRecordTypes = DNS_RECORD_TYPES;
export type DnsRecordType = (typeof dnsRecordTypes)[number];
export const EDGE_LOCATION = EDGE;
/**
 * A location's name, as checks list it: lower-case letters, digits, `.`, `_` and `-`. A probe's is its
 * host name (lower-cased) unless probe.json `checks.location` says otherwise; `edge` is the API's own.
 */
export const locationNameSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "lower-case letters, digits, '.', '_' and '-'")
  .describe("a location name, e.g. fra-1");

/** Facts about a host that change rarely; sent on start and whenever they change. */
export const hostFactsSchema = z.object({
  hostname: shortText(253),
  machineId: z.string().max(64).optional().describe("/etc/machine-id"),
  bootId: z.string().max(64).optional().describe("/proc/sys/kernel/random/boot_id"),
  kernel: z.string().max(256).optional(),
  os: z
    .object({
      id: z.string().max(64).optional().describe("os-release ID, e.g. debian"),
      name: z.string().max(256).optional().describe("os-release PRETTY_NAME"),
      version: z.string().max(64).optional().describe("os-release VERSION_ID"),
    })
    .optional(),
  arch: z.string().max(32).optional(),
  cpuCount: count.optional().describe("logical CPUs"),
  cpuModel: z.string().max(256).optional(),
  memoryTotalBytes: bytes.optional(),
  bootedAt: wireTime.optional(),
  probeVersion: z.string().max(64).optional(),
  runtime: z.string().max(64).optional().describe("e.g. node 20.20.2 or bun 1.4.5"),
  location: z
    .object({
      name: locationNameSchema,
      kinds: z.array(z.enum(locationCheckKinds)).max(locationCheckKinds.length),
    })
    .optional()
    .describe("present when the probe runs checks as a location: its name and the check kinds it can run"),
  runbooks: z
    .object({
      /** command prefixes the operator allows (empty: any command) */
      allow: z.array(z.string().max(256)).max(100),
      /** commands run as root through the host's root runner (install.sh --runbooks-as-root), not as the probe's user */
      asRoot: z.boolean().optional(),
    })
    .optional()
    .describe("present when the operator enabled runbook commands on this host (off by default)"),
});
export type HostFacts = z.infer<typeof hostFactsSchema>;

/** One host-wide reading. Rates and percentages are over the interval that ends at `ts`. */
export const hostSampleSchema = z.object({
  ts: wireTime,
  cpu: z
    .object({
      userPct: percent,
      systemPct: percent,
      iowaitPct: percent,
      stealPct: percent,
      idlePct: percent,
    })
    .partial()
    .optional(),
  load1: z.number().nonnegative().optional().describe("1-minute load average"),
  load5: z.number().nonnegative().optional(),
  load15: z.number().nonnegative().optional(),
  procsRunning: count.optional(),
  procsTotal: count.optional(),
  threadsTotal: count.optional(),
  contextSwitchesPerSec: perSecond.optional(),
  /** Pressure stall information, avg10 values from /proc/pressure/*: percent of time stalled. */
  pressure: z
    .object({
      cpuSomePct: percent,
      memorySomePct: percent,
      memoryFullPct: percent,
      ioSomePct: percent,
      ioFullPct: percent,
    })
    .partial()
    .optional(),
  memory: z
    .object({
      totalBytes: bytes,
      availableBytes: bytes,
      usedBytes: bytes,
      buffersBytes: bytes,
      cachedBytes: bytes,
      swapTotalBytes: bytes,
      swapUsedBytes: bytes,
    })
    .partial()
    .optional(),
  uptimeSec: z.number().nonnegative().optional().describe("seconds since boot"),
  openFds: count.optional().describe("allocated file handles, /proc/sys/fs/file-nr"),
});
export type HostSample = z.infer<typeof hostSampleSchema>;

export const filesystemRowSchema = z.object({
  ts: wireTime,
  mount: shortText(1024),
  device: z.string().max(1024).optional(),
  fstype: z.string().max(64).optional(),
  sizeBytes: bytes,
  usedBytes: bytes,
  availableBytes: bytes,
  inodesTotal: count.optional(),
  inodesUsed: count.optional(),
});
export type FilesystemRow = z.infer<typeof filesystemRowSchema>;

export const diskRowSchema = z.object({
  ts: wireTime,
  device: shortText(128),
  readBytesPerSec: perSecond,
  writeBytesPerSec: perSecond,
  readOpsPerSec: perSecond,
  writeOpsPerSec: perSecond,
  busyPct: percent.optional().describe("time the device had I/O in flight"),
});
export type DiskRow = z.infer<typeof diskRowSchema>;

export const interfaceRowSchema = z.object({
  ts: wireTime,
  name: shortText(128),
  rxBytesPerSec: perSecond,
  txBytesPerSec: perSecond,
  rxErrorsPerSec: perSecond.optional(),
  txErrorsPerSec: perSecond.optional(),
  rxDropsPerSec: perSecond.optional(),
  txDropsPerSec: perSecond.optional(),
});
export type InterfaceRow = z.infer<typeof interfaceRowSchema>;

/** journald priorities: 0 emerg … 7 debug. */
export const logPrioritySchema = z.number().int().min(0).max(7);

export const logEntrySchema = z.object({
  ts: wireTime,
  priority: logPrioritySchema,
  message: z.string().max(PROBE_BATCH_LIMITS.logMessage),
  unit: z.string().max(256).optional().describe("_SYSTEMD_UNIT"),
  identifier: z.string().max(256).optional().describe("SYSLOG_IDENTIFIER"),
  pid: count.optional(),
  bootId: z.string().max(64).optional(),
  /** Selected extra journal fields (e.g. CONTAINER_NAME), values truncated by the probe. */
  fields: z
    .record(z.string().max(64), z.string().max(4096))
    .refine((f) => Object.keys(f).length <= PROBE_BATCH_LIMITS.logFields, {
      message: `at most ${PROBE_BATCH_LIMITS.logFields} fields`,
    })
    .optional(),
});
export type LogEntry = z.infer<typeof logEntrySchema>;

export const backupRunSchema = z.object({
  name: shortText(128).describe("the backup's name, e.g. the autorestic location"),
  tool: z.enum(["restic", "autorestic", "other"]),
  status: z.enum(["success", "failure"]),
  startedAt: wireTime,
  endedAt: wireTime,
  exitCode: z.number().int().optional(),
  snapshotId: z.string().max(128).optional(),
  filesNew: count.optional(),
  filesChanged: count.optional(),
  filesUnmodified: count.optional(),
  bytesAdded: bytes.optional().describe("data added to the repository"),
  bytesProcessed: bytes.optional(),
  error: z.string().max(8192).optional().describe("tail of stderr on failure"),
});
export type BackupRun = z.infer<typeof backupRunSchema>;

/**
 * Where a repository keeps its data, for the 3-2-1 count of media: a disk of the host itself (`local`),
 * another machine (`host`: sftp, rest-server), object storage (`object`: s3, b2, azure, gs, swift, rclone)
 * or something else. The probe reports what the operator declared; the server infers it from the location
 * when nothing was declared and flags a declaration the location contradicts.
 */
export const backupMediaKinds = ["local", "host", "object", "other"] as const;
export type BackupMediaKind = (typeof backupMediaKinds)[number];
/** Whether a copy survives the loss of the building the server is in. */
export const backupSites = ["onsite", "offsite"] as const;
export type BackupSite = (typeof backupSites)[number];

/** What a repository holds of one backed-up source: a host name and its set of paths (`restic snapshots`). */
export const backupSourceSchema = z.object({
  hostname: shortText(253),
  /** sorted; a snapshot's paths as restic recorded them */
  paths: z.array(z.string().min(1).max(4096)).min(1).max(PROBE_BATCH_LIMITS.backupSourcePaths),
  snapshots: count,
  newestAt: wireTime,
  oldestAt: wireTime,
  newestId: z.string().max(128).optional(),
});
export type BackupSource = z.infer<typeof backupSourceSchema>;

/** The repository a check or drill ran against, credentials removed from its location. */
export const backupRepositorySchema = z.object({
  location: z
    .string()
    .min(1)
    .max(1024)
    .describe("as restic names it: /srv/restic, sftp:backup@nas:/restic, s3:s3.example.com/bucket, rest:…"),
  id: z.string().max(128).optional().describe("restic's repository id (`restic cat config`)"),
  kind: z.enum(backupMediaKinds).optional().describe("declared in the probe's config"),
  site: z.enum(backupSites).optional().describe("declared in the probe's config"),
});

/**
 * One `vigil-probe backup-check`: `restic check` (optionally reading a subset of the data), then
 * `restic snapshots --json` and `restic stats --json --mode raw-data`.
 * status: `ok` the check passed; `damaged` it ran and found errors; `error` it could not run (wrong
 * password, repository unreachable or locked, timeout).
 */
export const backupCheckSchema = z.object({
  name: shortText(128).describe("the repository's name as the operator gave it (an autorestic backend's)"),
  tool: z.enum(["restic", "autorestic"]),
  status: z.enum(["ok", "damaged", "error"]),
  startedAt: wireTime,
  endedAt: wireTime,
  exitCode: z.number().int().optional(),
  readDataSubset: z.string().max(32).optional().describe("what `--read-data-subset` read, e.g. 5% or 1/10"),
  output: z.string().max(8192).optional().describe("the tail of restic's output when not ok"),
  repository: backupRepositorySchema,
  sizeBytes: bytes.optional().describe("bytes stored in the repository (stats --mode raw-data)"),
  snapshotCount: count.optional(),
  newestSnapshotAt: wireTime.optional(),
  oldestSnapshotAt: wireTime.optional(),
  retention: z.string().max(512).optional().describe("the forget policy as configured, e.g. --keep-daily 7"),
  sources: z.array(backupSourceSchema).max(PROBE_BATCH_LIMITS.backupSources).default([]),
});
export type BackupCheck = z.infer<typeof backupCheckSchema>;

/**
 * One `vigil-probe backup-drill`: a sample of the newest snapshot restored into a temporary directory,
 * content compared, the directory removed. status: `ok` everything compared identical; `mismatch` a file
 * restored different from what it should be (or missing); `error` the restore could not run.
 */
export const backupDrillSchema = z.object({
  name: shortText(128),
  tool: z.enum(["restic", "autorestic"]),
  status: z.enum(["ok", "mismatch", "error"]),
  repository: backupRepositorySchema,
  startedAt: wireTime,
  endedAt: wireTime,
  snapshotId: z.string().max(128).optional(),
  snapshotAt: wireTime.optional(),
  /** files restored and compared */
  files: count,
  bytes: bytes,
  /** restored, but different from the live file (unchanged since the snapshot) or the snapshot's content */
  mismatched: count.default(0),
  /** asked for, not restored */
  missing: count.default(0),
  /** the canary file the probe keeps in the backed-up set came back intact (absent: no canary configured) */
  canary: z.boolean().optional(),
  output: z
    .string()
    .max(8192)
    .optional()
    .describe("why it failed: restic's output tail or the first differences"),
});
export type BackupDrill = z.infer<typeof backupDrillSchema>;

export const containerSchema = z.object({
  id: z.string().max(128),
  name: shortText(256),
  image: z.string().max(512),
  state: z.string().max(32).describe("docker state: running, exited, restarting …"),
  health: z.enum(["healthy", "unhealthy", "starting", "none"]).optional(),
  restartCount: count.optional(),
  startedAt: wireTime.optional(),
  /** Kamal's labels, kept so alerts can name the service: service, role, destination. */
  labels: z.record(z.string().max(128), z.string().max(512)).optional(),
});
export type Container = z.infer<typeof containerSchema>;

/** The host's state at `collectedAt`. Each part is absent when its source was not readable. */
export const stateSnapshotSchema = z.object({
  collectedAt: wireTime,
  updates: z
    .object({
      manager: z.enum(["apt", "dnf"]),
      pending: count,
      security: count,
      packages: z.array(z.string().max(256)).max(2_000).optional(),
    })
    .optional(),
  reboot: z
    .object({
      required: z.boolean(),
      since: wireTime.optional().describe("mtime of /var/run/reboot-required"),
      packages: z.array(z.string().max(256)).max(2_000).optional(),
    })
    .optional(),
  lastUnattendedUpgradeAt: wireTime.optional(),
  failedUnits: z.array(z.string().max(256)).max(1_000).optional(),
  containers: z.array(containerSchema).max(PROBE_BATCH_LIMITS.containers).optional(),
  sshKeys: z
    .array(
      z.object({
        user: shortText(64),
        fingerprints: z.array(z.string().max(128)).max(1_000).describe("SHA256:… fingerprints, never keys"),
      }),
    )
    .max(1_000)
    .optional(),
});
export type StateSnapshot = z.infer<typeof stateSnapshotSchema>;

/**
 * What one run of an assigned check saw from this probe's location. The probe reports what it observed;
 * the server judges it with the check's settings (accepted status codes, degraded-after, TLS warning days,
 * expected DNS value), the same way it judges a run from `edge`.
 */
export const checkResultSchema = z.object({
  checkId: z.string().min(1).max(64),
  rev: z.string().max(64).describe("the assignment's rev the run used"),
  at: wireTime.describe("when the run started"),
  ms: z
    .number()
    .min(0)
    .max(600_000)
    .optional()
    .describe(
      "response time: the whole exchange (http), connect (tcp), handshake (tls), lookup (dns), average round trip (icmp)",
    ),
  error: z
    .string()
    .max(1024)
    .optional()
    .describe("why the target gave no answer: a network error, a timeout, too many redirects"),
  refused: z
    .string()
    .max(512)
    .optional()
    .describe("not run: the probe's operator forbids this target (probe.json checks.allow / deny)"),
  httpStatus: z.number().int().min(100).max(599).optional(),
  keywordFound: z.boolean().optional().describe("http: the keyword was in the first MiB of the body"),
  tls: z
    .object({
      validTo: wireTime.describe("the certificate's notAfter"),
      authorized: z.boolean().describe("the chain verified against the probe's trust store"),
      authorizationError: z.string().max(512).optional(),
    })
    .optional(),
  dns: z.object({ values: z.array(z.string().max(1024)).max(100) }).optional(),
  icmp: z.object({ sent: count, received: count }).optional(),
});
export type CheckResult = z.infer<typeof checkResultSchema>;

/**
 * What became of one runbook command on this host. `refused`: runbooks are off here or the command is
 * outside the operator's allow-list, and nothing ran; `timed-out`: killed at its timeout.
 */
export const probeCommandResultSchema = z.object({
  id: z.string().min(1).max(64),
  status: z.enum(["done", "failed", "refused", "timed-out"]),
  exitCode: z.number().int().optional(),
  /** the tail of stdout and stderr together */
  output: z.string().max(PROBE_BATCH_LIMITS.commandOutput).default(""),
  startedAt: wireTime.optional(),
  endedAt: wireTime,
});
export type ProbeCommandResult = z.infer<typeof probeCommandResultSchema>;

/** Metric names as the Prometheus exposition format allows them: no dots, so never a built-in series name. */
export const customMetricNameSchema = z
  .string()
  .max(CUSTOM_METRIC_LIMITS.name)
  .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, "must be a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)");
export const customLabelsSchema = z
  .record(
    z
      .string()
      .max(CUSTOM_METRIC_LIMITS.labelName)
      .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "must be a Prometheus label name"),
    z.string().max(CUSTOM_METRIC_LIMITS.labelValue),
  )
  .refine((labels) => Object.keys(labels).length <= CUSTOM_METRIC_LIMITS.labels, {
    message: `at most ${CUSTOM_METRIC_LIMITS.labels} labels`,
  });
export const customMetricKinds = ["counter", "gauge", "histogram", "summary", "untyped"] as const;
export type CustomMetricKind = (typeof customMetricKinds)[number];

/**
 * One reading of an application's own metric: a sample line of a Prometheus endpoint the probe scraped
 * (or of a push). `name` is the sample's name as exposed (`http_requests_total`, `latency_seconds_bucket`),
 * `kind` its family's type, so counters become rates and histogram buckets quantiles. NaN and ±Inf values
 * cannot travel in JSON and are left out by the probe.
 */
export const customSampleSchema = z.object({
  ts: wireTime,
  name: customMetricNameSchema,
  labels: customLabelsSchema.default({}),
  value: z.number(),
  kind: z.enum(customMetricKinds).default("untyped"),
});
export type CustomSample = z.infer<typeof customSampleSchema>;

/** Why something is missing: a collector that found no source, or lost data on purpose (caps). */
export const probeNoteSchema = z.object({
  collector: shortText(64),
  message: z.string().max(1024),
  /** how many items were left out, for capped collectors such as journald bursts */
  dropped: count.optional(),
});
export type ProbeNote = z.infer<typeof probeNoteSchema>;

export const probeBatchV1Schema = z.object({
  v: z.literal(probeBatchVersion),
  /** Chosen by the probe once per batch and kept across retries: the ingest is idempotent on it. */
  batchId: z
    .string()
    .min(8)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
  sentAt: wireTime.describe("when the probe first tried to send this batch"),
  facts: hostFactsSchema.optional(),
  samples: z.array(hostSampleSchema).max(PROBE_BATCH_LIMITS.samples).default([]),
  filesystems: z.array(filesystemRowSchema).max(PROBE_BATCH_LIMITS.deviceRows).default([]),
  disks: z.array(diskRowSchema).max(PROBE_BATCH_LIMITS.deviceRows).default([]),
  interfaces: z.array(interfaceRowSchema).max(PROBE_BATCH_LIMITS.deviceRows).default([]),
  logs: z.array(logEntrySchema).max(PROBE_BATCH_LIMITS.logs).default([]),
  backups: z.array(backupRunSchema).max(PROBE_BATCH_LIMITS.backups).default([]),
  state: stateSnapshotSchema.optional(),
  notes: z.array(probeNoteSchema).max(PROBE_BATCH_LIMITS.notes).default([]),
  customMetrics: z.array(customSampleSchema).max(PROBE_BATCH_LIMITS.customSamples).default([]),
  backupChecks: z.array(backupCheckSchema).max(PROBE_BATCH_LIMITS.backupChecks).default([]),
  backupDrills: z.array(backupDrillSchema).max(PROBE_BATCH_LIMITS.backupDrills).default([]),
  checkResults: z.array(checkResultSchema).max(PROBE_BATCH_LIMITS.checkResults).default([]),
  commandResults: z.array(probeCommandResultSchema).max(PROBE_BATCH_LIMITS.commands).default([]),
});
/** A parsed batch (defaults filled in). */
export type ProbeBatchV1 = z.infer<typeof probeBatchV1Schema>;
/** A batch as a probe may write it (arrays optional). */
export type ProbeBatchV1Input = z.input<typeof probeBatchV1Schema>;

/**
 * One check a probe runs as a location, handed out in every batch answer. The probe runs it every
 * `intervalSec` on its own clock (not its collection interval) and reports `checkResults`; a changed
 * definition gets a new `rev`, and results of an older rev are history only.
 */
export const checkAssignmentSchema = z.object({
  id: z.string().min(1).max(64),
  rev: z.string().max(64),
  kind: z.enum(locationCheckKinds),
  intervalSec: z.number().int().min(10).max(86_400),
  timeoutMs: z.number().int().min(100).max(120_000),
  http: z
    .object({
      url: z.string().max(2000),
      method: z.string().max(16),
      headers: z.record(z.string().max(256), z.string().max(4096)),
      body: z.string().max(65_536).nullable(),
      followRedirects: z.boolean(),
      /** report `keywordFound` for this text (null: don't read the body) */
      keyword: z.string().max(200).nullable(),
    })
    .optional(),
  /** tcp (port), tls (port, 443 when absent) and icmp (no port) */
  target: z
    .object({ host: z.string().max(253), port: z.number().int().min(1).max(65_535).optional() })
    .optional(),
  dns: z
    .object({
      name: z.string().max(253),
      type: z.enum(dnsRecordTypes),
      /** ask this resolver (ip[:port]) instead of the system's */
      server: z.string().max(64).optional(),
    })
    .optional(),
});
export type CheckAssignment = z.infer<typeof checkAssignmentSchema>;

/** Central configuration the server hands back to a probe on every accepted batch. */
export const probeRemoteConfigSchema = z.object({
  intervalSec: z.number().int().min(5).max(3600).describe("seconds between collections"),
  journal: z.object({
    minPriority: logPrioritySchema.describe("keep entries at this priority or more severe"),
    units: z.array(z.string().max(256)).max(200).describe("only these units; empty means all"),
  }),
  checks: z
    .array(checkAssignmentSchema)
    .max(PROBE_BATCH_LIMITS.checkAssignments)
    .optional()
    .describe("the checks this probe runs as a location (absent: none)"),
  commands: z
    .array(
      z.object({
        /** run each id at most once, even when it is handed out again (until its result is stored) */
        id: z.string().min(1).max(64),
        command: z.string().max(4096).describe("run with /bin/sh -c"),
        timeoutSec: z.number().int().min(1).max(3600),
      }),
    )
    .max(PROBE_BATCH_LIMITS.commands)
    .optional()
    .describe("runbook commands for this host (only when its facts say runbooks are enabled)"),
});
export type ProbeRemoteConfig = z.infer<typeof probeRemoteConfigSchema>;

export const probeBatchResponseSchema = z.object({
  batchId: z.string(),
  accepted: z.boolean(),
  duplicate: z.boolean().describe("true when this batchId was already stored; nothing was stored twice"),
  config: probeRemoteConfigSchema,
});
export type ProbeBatchResponse = z.infer<typeof probeBatchResponseSchema>;

/**
 * The answer when the server has put the batch in its ingest queue (202, Workers with a queue bound):
 * the batch is durable there and will be stored once; the probe must not send it again. Whether it
 * repeats an earlier batch is only known when the queue is consumed, so `duplicate` is false here.
 */
export const probeBatchQueuedResponseSchema = probeBatchResponseSchema.extend({
  accepted: z.literal(true),
  queued: z.literal(true),
  duplicate: z.literal(false),
});
export type ProbeBatchQueuedResponse = z.infer<typeof probeBatchQueuedResponseSchema>;

/**
 * A probe batch in the ingest queue: the batch as the route validated it, with the host the route
 * authenticated and when it was accepted. The consumer validates it again (messages outlive deploys).
 */
export const queuedProbeBatchSchema = z.object({
  v: z.literal(1),
  hostId: z.string().min(1).max(64),
  projectId: z.string().min(1).max(64),
  receivedAt: wireTime.describe("when the API accepted the batch"),
  batch: probeBatchV1Schema,
});
export type QueuedProbeBatch = z.infer<typeof queuedProbeBatchSchema>;

export const enrollRequestSchema = z.object({
  token: z.string().min(8).max(256).describe("an enrollment token"),
  facts: hostFactsSchema,
  /** enroll as a new host even if this machine id is already known */
  forceNew: z.boolean().optional(),
  /**
   * The host token the probe holds from an earlier enrollment: proves the request comes from that host, so
   * it is re-enrolled (fresh token) instead of refused as a machine id already known.
   */
  hostToken: z.string().min(8).max(256).optional(),
});
export type EnrollRequest = z.infer<typeof enrollRequestSchema>;

export const enrollResponseSchema = z.object({
  hostId: z.string(),
  hostToken: z.string().describe("shown once; the probe keeps it in its state dir"),
  config: probeRemoteConfigSchema,
});
export type EnrollResponse = z.infer<typeof enrollResponseSchema>;
