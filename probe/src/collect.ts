import { stat } from "node:fs/promises";
import type { HostFacts, HostSample, ProbeBatchV1Input, StateSnapshot } from "@vigil/contract";
import { type CpuCounters, contextSwitchRate, cpuUsageBetween, readCpu } from "./collectors/cpu.ts";
import { type DiskReading, diskRatesBetween, readDisks } from "./collectors/disks.ts";
import { collectContainers } from "./collectors/docker.ts";
import { readFilesystems } from "./collectors/filesystems.ts";
import { readBootId, readHostFacts } from "./collectors/host-facts.ts";
import { collectJournal, type JournalCollection, type JournalOptions } from "./collectors/journal.ts";
import { JournalFollower } from "./collectors/journal-follower.ts";
import { readMemory } from "./collectors/memory.ts";
import {
  DEFAULT_SKIPPED_INTERFACES,
  interfaceRatesBetween,
  type NetworkReading,
  readNetwork,
} from "./collectors/network.ts";
import { collectOsUpdates, type OsUpdatesOptions } from "./collectors/os-updates.ts";
import { readPressure } from "./collectors/pressure.ts";
import { countProcesses } from "./collectors/processes.ts";
import { readLastUnattendedUpgrade, readRebootRequired } from "./collectors/reboot.ts";
import { collectSshKeys } from "./collectors/ssh-keys.ts";
import { collectFailedUnits } from "./collectors/systemd-units.ts";
import { readOpenFds, readUptimeSec } from "./collectors/uptime.ts";
import { NoteSink } from "./notes.ts";
import { underRoot } from "./platform/files.ts";
import { ScrapeScheduler } from "./scrape-scheduler.ts";
import type { ScrapeTarget } from "./scrape-targets.ts";

/** Everything collected in one cycle, before it gets a batch id and goes to the spool. */
export type Collection = Omit<ProbeBatchV1Input, "v" | "batchId" | "sentAt">;

export type CollectorName =
  | "cpu"
  | "memory"
  | "pressure"
  | "filesystems"
  | "disks"
  | "network"
  | "journal"
  | "updates"
  | "reboot"
  | "systemd"
  | "docker"
  | "ssh";

export interface CollectSettings {
  /** "/" in production; a fixture tree in tests */
  rootDir: string;
  stateDir: string;
  disabled?: CollectorName[];
  journal: {
    minPriority: number;
    units: string[];
    maxEntries?: number;
    directory?: string;
    journalctl?: string;
    /** keep one `journalctl --follow` running (the daemon) instead of one run per collection */
    follow?: boolean;
    firstRunLookbackMs?: number;
  };
  dockerSocket?: string;
  skippedInterfaces?: RegExp[];
  updates?: OsUpdatesOptions;
  systemctl?: string;
  /**
   * Pending updates cost apt-get about two seconds of CPU, so they are recomputed only when the package
   * database or lists change (a cheap stat per cycle), and at least this often (default 6 h).
   */
  updatesEveryMs?: number;
  /**
   * State (updates, reboot flag, failed units, containers, SSH keys) changes slowly and is the costliest part
   * of a cycle (a Docker API round trip, systemctl, a read of every authorized_keys): it is re-read at most
   * this often (default 60 s), so a change reaches the server within this plus one interval.
   */
  stateEveryMs?: number;
  /** the state snapshot is re-sent unchanged this often, so the server knows it is still current */
  stateRefreshMs?: number;
  /** facts are re-sent unchanged this often */
  factsRefreshMs?: number;
  /**
   * Prometheus / OpenMetrics endpoints, each scraped on its own interval (`intervalMs` for those without
   * one); what finished by a collection rides in its batch as `customMetrics`.
   */
  scrape?: { targets: ScrapeTarget[]; intervalMs: number };
  /** the location this probe runs checks as, announced in the facts (absent: checks are off) */
  location?: NonNullable<HostFacts["location"]>;
  /** runbook commands are on, with this allow-list, announced in the facts (absent: off) */
  runbooks?: NonNullable<HostFacts["runbooks"]>;
}

const HOUR_MS = 3_600_000;
const STATE_EVERY_MS = 60_000;

/** Changes when packages are installed (dpkg/rpm database) or package lists are refreshed (apt update). */
async function packageSourcesKey(rootDir: string): Promise<string> {
  const paths = ["/var/lib/dpkg/status", "/var/lib/apt/lists", "/var/lib/rpm", "/var/cache/dnf"];
  const times = await Promise.all(
    paths.map((path) =>
      stat(underRoot(rootDir, path)).then(
        (s) => s.mtimeMs,
        () => 0,
      ),
    ),
  );
  return times.join(",");
}

/**
 * Runs the collectors once per interval and keeps what rates need between runs.
 * 1. Read every enabled source; each failure becomes a note, never an exception.
 * 2. Turn counters into rates against the previous cycle (the first cycle has no rates).
 * 3. Re-read state only every `stateEveryMs`; between readings the last complete snapshot stands.
 * 4. Include facts, state and notes only when they changed or are due for a refresh, to keep batches small.
 */
export class Collector {
  private previousCpu: CpuCounters | undefined;
  private previousDisks: DiskReading | undefined;
  private previousNetwork: NetworkReading | undefined;
  private lastBootId: string | undefined = "unread";
  private lastFactsAt = Number.NEGATIVE_INFINITY;
  private lastFactsNotes: NoteSink["notes"] = [];
  private lastStateKey = "";
  private lastStateAt = 0;
  private lastNotesKey = "";
  private lastNotesAt = 0;
  private cachedState:
    | { at: number; value: StateSnapshot; notes: NoteSink["notes"]; contentKey: string }
    | undefined;
  private cachedUpdates:
    | { at: number; sourceKey: string; value: StateSnapshot["updates"]; notes: NoteSink["notes"] }
    | undefined;

  private journalFollower: JournalFollower | undefined;
  private readonly scraper: ScrapeScheduler | undefined;

  constructor(private settings: CollectSettings) {
    const scrape = settings.scrape;
    if (scrape && scrape.targets.length > 0)
      this.scraper = new ScrapeScheduler(scrape.targets, scrape.intervalMs);
  }

  updateJournalSettings(journal: Pick<CollectSettings["journal"], "minPriority" | "units">): void {
    this.settings = { ...this.settings, journal: { ...this.settings.journal, ...journal } };
    this.journalFollower?.updateOptions(journal);
  }

  /** Stops the journal follower and the scrapes under way, if any; the daemon calls it on shutdown. */
  close(): void {
    this.journalFollower?.stop();
    this.scraper?.stop();
  }

  /** When a scrape target is next due (infinity without targets): the daemon wakes up for it. */
  nextScrapeAt(): number {
    return this.scraper?.nextDueAt() ?? Number.POSITIVE_INFINITY;
  }

  /** Starts the scrapes that are due, without waiting for them; their results go with the next collection. */
  startDueScrapes(now: number): void {
    this.scraper?.startDue(now);
  }

  updateScrapeInterval(intervalMs: number): void {
    this.scraper?.setDefaultInterval(intervalMs);
  }

  private journalOptions(): JournalOptions {
    return {
      ...this.settings.journal,
      maxEntries: this.settings.journal.maxEntries ?? 1_000,
      stateDir: this.settings.stateDir,
    };
  }

  private enabled(name: CollectorName): boolean {
    return !this.settings.disabled?.includes(name);
  }

  /**
   * One cycle. `forceAll` sends facts, state and notes regardless of change (used by `once --print`);
   * `scrape: false` leaves the scrape targets alone (the first of `once`'s two readings, only for rates).
   */
  async collect(
    now: number,
    options: { forceAll?: boolean; scrape?: boolean } = {},
  ): Promise<{ collection: Collection; journalCursor?: string }> {
    const { rootDir } = this.settings;
    // Started first, so the scrapes' network round trips overlap the reads below.
    const scraper = options.scrape === false ? undefined : this.scraper;
    scraper?.startDue(now);
    const notes = new NoteSink();
    const sample: HostSample = { ts: now };
    const collection: Collection = {
      samples: [sample],
      filesystems: [],
      disks: [],
      interfaces: [],
      logs: [],
    };

    // Facts (cpuinfo, os-release …) rarely change: read them on start, hourly, and when the boot id says
    // the host rebooted (new kernel, new CPU count).
    const bootId = await readBootId(rootDir);
    const factsDue = now - this.lastFactsAt >= (this.settings.factsRefreshMs ?? HOUR_MS);
    if (options.forceAll || factsDue || bootId !== this.lastBootId) {
      const factNotes = new NoteSink();
      collection.facts = await readHostFacts(rootDir, factNotes, rootDir === "/");
      if (this.settings.location) collection.facts.location = this.settings.location;
      if (this.settings.runbooks) collection.facts.runbooks = this.settings.runbooks;
      this.lastFactsAt = now;
      this.lastBootId = bootId;
      this.lastFactsNotes = factNotes.notes;
    }
    // Replayed between readings, so a standing "no machine id" note does not flap.
    notes.notes.push(...this.lastFactsNotes);

    if (this.enabled("cpu")) {
      const cpu = await readCpu(rootDir, now, notes);
      if (cpu.load) Object.assign(sample, cpu.load);
      if (cpu.procsRunning !== undefined) sample.procsRunning = cpu.procsRunning;
      if (cpu.threadsTotal !== undefined) sample.threadsTotal = cpu.threadsTotal;
      if (cpu.counters && this.previousCpu) {
        const usage = cpuUsageBetween(this.previousCpu, cpu.counters);
        if (usage) sample.cpu = usage;
        const switches = contextSwitchRate(this.previousCpu, cpu.counters);
        if (switches !== undefined) sample.contextSwitchesPerSec = switches;
      }
      if (cpu.counters) this.previousCpu = cpu.counters;
      const processes = await countProcesses(rootDir, notes);
      if (processes !== undefined) sample.procsTotal = processes;
    }
    if (this.enabled("pressure")) {
      const pressure = await readPressure(rootDir, notes);
      if (pressure) sample.pressure = pressure;
    }
    if (this.enabled("memory")) {
      const memory = await readMemory(rootDir, notes);
      if (memory) sample.memory = memory;
    }
    const uptime = await readUptimeSec(rootDir, notes);
    if (uptime !== undefined) sample.uptimeSec = uptime;
    const fds = await readOpenFds(rootDir, notes);
    if (fds !== undefined) sample.openFds = fds;

    if (this.enabled("filesystems")) collection.filesystems = await readFilesystems(rootDir, now, notes);
    if (this.enabled("disks")) {
      const disks = await readDisks(rootDir, now, notes);
      if (disks && this.previousDisks) collection.disks = diskRatesBetween(this.previousDisks, disks);
      if (disks) this.previousDisks = disks;
    }
    if (this.enabled("network")) {
      const network = await readNetwork(
        rootDir,
        now,
        notes,
        this.settings.skippedInterfaces ?? DEFAULT_SKIPPED_INTERFACES,
      );
      if (network && this.previousNetwork)
        collection.interfaces = interfaceRatesBetween(this.previousNetwork, network);
      if (network) this.previousNetwork = network;
    }

    let journalCursor: string | undefined;
    if (this.enabled("journal")) {
      let journal: JournalCollection;
      if (this.settings.journal.follow) {
        this.journalFollower ??= new JournalFollower(this.journalOptions());
        await this.journalFollower.ensureRunning(now, notes);
        journal = this.journalFollower.take(notes);
      } else {
        journal = await collectJournal(this.journalOptions(), now, notes);
      }
      collection.logs = journal.logs;
      journalCursor = journal.cursor;
    }

    // Between readings the last complete snapshot stands, with its notes, so neither flaps.
    let cachedState = this.cachedState;
    if (
      options.forceAll ||
      !cachedState ||
      now - cachedState.at >= (this.settings.stateEveryMs ?? STATE_EVERY_MS) ||
      now < cachedState.at
    ) {
      const stateNotes = new NoteSink();
      const value = await this.collectState(now, stateNotes);
      const { collectedAt: _ignored, ...content } = value;
      cachedState = { at: now, value, notes: stateNotes.notes, contentKey: JSON.stringify(content) };
      this.cachedState = cachedState;
    }
    notes.notes.push(...cachedState.notes);
    const state = cachedState.value;
    const stateKey = cachedState.contentKey;
    if (
      options.forceAll ||
      this.isDue(
        stateKey,
        this.lastStateKey,
        this.lastStateAt,
        now,
        this.settings.stateRefreshMs ?? 10 * 60_000,
      )
    ) {
      collection.state = state;
      this.lastStateKey = stateKey;
      this.lastStateAt = now;
    }

    if (scraper) {
      // Scrapes started with this cycle ride in its batch; each is bounded by its target's timeout.
      await scraper.settled();
      const custom = scraper.take(notes);
      if (custom.length > 0) collection.customMetrics = custom;
    }

    // Drop counts are events and always go out; "no PSI here" is a standing fact sent when it changes.
    const notesKey = JSON.stringify(notes.notes.filter((note) => note.dropped === undefined));
    const due = this.isDue(notesKey, this.lastNotesKey, this.lastNotesAt, now, HOUR_MS);
    collection.notes =
      options.forceAll || due ? notes.notes : notes.notes.filter((note) => note.dropped !== undefined);
    if (due) {
      this.lastNotesKey = notesKey;
      this.lastNotesAt = now;
    }
    const result: { collection: Collection; journalCursor?: string } = { collection };
    if (journalCursor) result.journalCursor = journalCursor;
    return result;
  }

  private isDue(key: string, lastKey: string, lastAt: number, now: number, refreshMs: number): boolean {
    return key !== lastKey || now - lastAt >= refreshMs;
  }

  private async collectState(now: number, notes: NoteSink): Promise<StateSnapshot> {
    const { rootDir } = this.settings;
    const state: StateSnapshot = { collectedAt: now };
    if (this.enabled("updates")) {
      const everyMs = this.settings.updatesEveryMs ?? 6 * HOUR_MS;
      const sourceKey = await packageSourcesKey(rootDir);
      let cached = this.cachedUpdates;
      if (!cached || cached.sourceKey !== sourceKey || now - cached.at >= everyMs) {
        const updateNotes = new NoteSink();
        const value = await collectOsUpdates(this.settings.updates ?? {}, updateNotes);
        cached = { at: now, sourceKey, value, notes: updateNotes.notes };
        this.cachedUpdates = cached;
      }
      // Replayed with the cached value so a standing "no apt here" note does not flap between cycles.
      notes.notes.push(...cached.notes);
      if (cached.value) state.updates = cached.value;
    }
    if (this.enabled("reboot")) {
      const reboot = await readRebootRequired(rootDir, notes);
      if (reboot) state.reboot = reboot;
      const lastUnattended = await readLastUnattendedUpgrade(rootDir);
      if (lastUnattended !== undefined) state.lastUnattendedUpgradeAt = lastUnattended;
    }
    if (this.enabled("systemd")) {
      const failed = await collectFailedUnits(rootDir, notes, this.settings.systemctl);
      if (failed) state.failedUnits = failed;
    }
    if (this.enabled("docker")) {
      const containers = await collectContainers(
        this.settings.dockerSocket ?? `${rootDir === "/" ? "" : rootDir}/var/run/docker.sock`,
        notes,
      );
      if (containers) state.containers = containers;
    }
    if (this.enabled("ssh")) {
      const keys = await collectSshKeys(rootDir, notes);
      if (keys) state.sshKeys = keys;
    }
    return state;
  }
}
