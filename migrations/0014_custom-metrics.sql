-- Custom metrics (issue 22): a series may belong to the project alone (host_id null: pushed without a
-- host, or a heartbeat's run durations) and records its family type (kind); SQLite cannot drop NOT NULL
-- in place, so the table is rebuilt with its ids kept (samples and rollups refer to them). Heartbeats gain
-- slow_run_factor ("slower than usual").
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_series` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`host_id` text,
	`name` text NOT NULL,
	`labels` text NOT NULL,
	`kind` text,
	`last_ts` integer,
	`last_value` real,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_series`("id", "project_id", "host_id", "name", "labels", "kind", "last_ts", "last_value") SELECT "id", "project_id", "host_id", "name", "labels", NULL, "last_ts", "last_value" FROM `series`;--> statement-breakpoint
DROP TABLE `series`;--> statement-breakpoint
ALTER TABLE `__new_series` RENAME TO `series`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `series_host_name_labels_idx` ON `series` (`host_id`,`name`,`labels`);--> statement-breakpoint
CREATE INDEX `series_project_name_idx` ON `series` (`project_id`,`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `series_project_wide_idx` ON `series` (`project_id`,`name`,`labels`) WHERE host_id is null;--> statement-breakpoint
ALTER TABLE `checks` ADD `slow_run_factor` real;