-- Checks from locations (issue 17): where a check runs from (edge and probe locations), the quorum that
-- must agree, each location's state, DNS check settings; runs and daily response times per location.
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_response_daily` (
	`project_id` text NOT NULL,
	`check_id` text NOT NULL,
	`location` text DEFAULT 'edge' NOT NULL,
	`day` integer NOT NULL,
	`runs` integer DEFAULT 0 NOT NULL,
	`total_ms` integer DEFAULT 0 NOT NULL,
	`max_ms` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`check_id`, `location`, `day`),
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`check_id`) REFERENCES `checks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_response_daily`("project_id", "check_id", "location", "day", "runs", "total_ms", "max_ms") SELECT "project_id", "check_id", 'edge', "day", "runs", "total_ms", "max_ms" FROM `response_daily`;--> statement-breakpoint
DROP TABLE `response_daily`;--> statement-breakpoint
ALTER TABLE `__new_response_daily` RENAME TO `response_daily`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
ALTER TABLE `check_runs` ADD `location` text DEFAULT 'edge' NOT NULL;--> statement-breakpoint
-- Runs recorded twice in the same millisecond (only ever by a test clock) would stop the unique index.
DELETE FROM `check_runs` WHERE `id` NOT IN (SELECT min(`id`) FROM `check_runs` GROUP BY `check_id`, `at`);--> statement-breakpoint
CREATE UNIQUE INDEX `check_runs_location_idx` ON `check_runs` (`check_id`,`location`,`at`);--> statement-breakpoint
ALTER TABLE `checks` ADD `locations` text;--> statement-breakpoint
ALTER TABLE `checks` ADD `quorum` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `checks` ADD `location_states` text;--> statement-breakpoint
ALTER TABLE `checks` ADD `dns_record_type` text;--> statement-breakpoint
ALTER TABLE `checks` ADD `dns_expected` text;--> statement-breakpoint
ALTER TABLE `checks` ADD `dns_server` text;