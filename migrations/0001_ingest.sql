CREATE TABLE `backup_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`host_id` text NOT NULL,
	`name` text NOT NULL,
	`tool` text NOT NULL,
	`status` text NOT NULL,
	`started_at` integer NOT NULL,
	`ended_at` integer NOT NULL,
	`exit_code` integer,
	`snapshot_id` text,
	`files_new` integer,
	`files_changed` integer,
	`files_unmodified` integer,
	`bytes_added` integer,
	`bytes_processed` integer,
	`error` text,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `backup_runs_host_name_idx` ON `backup_runs` (`host_id`,`name`,`ended_at`);--> statement-breakpoint
CREATE TABLE `host_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`host_id` text,
	`at` integer NOT NULL,
	`kind` text NOT NULL,
	`message` text NOT NULL,
	`details` text DEFAULT '{}' NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `host_events_host_at_idx` ON `host_events` (`host_id`,`at`);--> statement-breakpoint
CREATE INDEX `host_events_project_at_idx` ON `host_events` (`project_id`,`at`);--> statement-breakpoint
CREATE TABLE `host_state` (
	`host_id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`collected_at` integer NOT NULL,
	`snapshot` text NOT NULL,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `ingested_batches` (
	`host_id` text NOT NULL,
	`batch_id` text NOT NULL,
	`project_id` text NOT NULL,
	`received_at` integer NOT NULL,
	`summary` text NOT NULL,
	PRIMARY KEY(`host_id`, `batch_id`),
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `ingested_batches_received_idx` ON `ingested_batches` (`received_at`);--> statement-breakpoint
CREATE TABLE `log_entries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`host_id` text NOT NULL,
	`ts` integer NOT NULL,
	`priority` integer NOT NULL,
	`unit` text,
	`identifier` text,
	`message` text NOT NULL,
	`pid` integer,
	`boot_id` text,
	`fields` text,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `log_entries_host_id_idx` ON `log_entries` (`host_id`,`id`);--> statement-breakpoint
CREATE INDEX `log_entries_host_ts_idx` ON `log_entries` (`host_id`,`ts`);--> statement-breakpoint
CREATE INDEX `log_entries_project_id_idx` ON `log_entries` (`project_id`,`id`);--> statement-breakpoint
CREATE TABLE `rollup_dirty` (
	`host_id` text NOT NULL,
	`hour` integer NOT NULL,
	PRIMARY KEY(`host_id`, `hour`)
);
--> statement-breakpoint
CREATE TABLE `rollups_daily` (
	`series_id` integer NOT NULL,
	`bucket` integer NOT NULL,
	`min` real NOT NULL,
	`max` real NOT NULL,
	`sum` real NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`series_id`, `bucket`)
);
--> statement-breakpoint
CREATE TABLE `rollups_hourly` (
	`series_id` integer NOT NULL,
	`bucket` integer NOT NULL,
	`min` real NOT NULL,
	`max` real NOT NULL,
	`sum` real NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`series_id`, `bucket`)
);
--> statement-breakpoint
CREATE TABLE `samples` (
	`series_id` integer NOT NULL,
	`ts` integer NOT NULL,
	`value` real NOT NULL,
	PRIMARY KEY(`series_id`, `ts`)
);
--> statement-breakpoint
CREATE TABLE `series` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`host_id` text NOT NULL,
	`name` text NOT NULL,
	`labels` text NOT NULL,
	`last_ts` integer,
	`last_value` real,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `series_host_name_labels_idx` ON `series` (`host_id`,`name`,`labels`);--> statement-breakpoint
ALTER TABLE `hosts` ADD `config` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `projects` ADD `settings` text DEFAULT '{}' NOT NULL;