-- Time-series tables keyed by (series, time) store their rows in the primary-key b-tree itself
-- (WITHOUT ROWID): one b-tree per table instead of a rowid table plus a key index, so each sample is
-- written once and stored once. drizzle-kit has no WITHOUT ROWID, hence this hand-written migration.
CREATE TABLE `samples_by_key` (
	`series_id` integer NOT NULL,
	`ts` integer NOT NULL,
	`value` real NOT NULL,
	PRIMARY KEY(`series_id`, `ts`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `samples_by_key` SELECT `series_id`, `ts`, `value` FROM `samples`;
--> statement-breakpoint
DROP TABLE `samples`;
--> statement-breakpoint
ALTER TABLE `samples_by_key` RENAME TO `samples`;
--> statement-breakpoint
CREATE TABLE `rollups_hourly_by_key` (
	`series_id` integer NOT NULL,
	`bucket` integer NOT NULL,
	`min` real NOT NULL,
	`max` real NOT NULL,
	`sum` real NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`series_id`, `bucket`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `rollups_hourly_by_key` SELECT `series_id`, `bucket`, `min`, `max`, `sum`, `count` FROM `rollups_hourly`;
--> statement-breakpoint
DROP TABLE `rollups_hourly`;
--> statement-breakpoint
ALTER TABLE `rollups_hourly_by_key` RENAME TO `rollups_hourly`;
--> statement-breakpoint
CREATE TABLE `rollups_daily_by_key` (
	`series_id` integer NOT NULL,
	`bucket` integer NOT NULL,
	`min` real NOT NULL,
	`max` real NOT NULL,
	`sum` real NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`series_id`, `bucket`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `rollups_daily_by_key` SELECT `series_id`, `bucket`, `min`, `max`, `sum`, `count` FROM `rollups_daily`;
--> statement-breakpoint
DROP TABLE `rollups_daily`;
--> statement-breakpoint
ALTER TABLE `rollups_daily_by_key` RENAME TO `rollups_daily`;
--> statement-breakpoint
CREATE TABLE `rollup_dirty_by_key` (
	`host_id` text NOT NULL,
	`hour` integer NOT NULL,
	PRIMARY KEY(`host_id`, `hour`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `rollup_dirty_by_key` SELECT `host_id`, `hour` FROM `rollup_dirty`;
--> statement-breakpoint
DROP TABLE `rollup_dirty`;
--> statement-breakpoint
ALTER TABLE `rollup_dirty_by_key` RENAME TO `rollup_dirty`;
