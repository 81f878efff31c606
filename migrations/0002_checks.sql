CREATE TABLE `check_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`check_id` text NOT NULL,
	`at` integer NOT NULL,
	`result` text NOT NULL,
	`response_ms` integer,
	`http_status` integer,
	`tls_days_left` integer,
	`error` text,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`check_id`) REFERENCES `checks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `check_runs_check_idx` ON `check_runs` (`check_id`,`at`);--> statement-breakpoint
CREATE TABLE `checks` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`kind` text NOT NULL,
	`name` text NOT NULL,
	`slug` text,
	`tags` text DEFAULT '[]' NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`runbook_url` text,
	`public` integer DEFAULT false NOT NULL,
	`status` text DEFAULT 'new' NOT NULL,
	`status_changed_at` integer NOT NULL,
	`cas` text NOT NULL,
	`alert_after` integer,
	`period_sec` integer,
	`grace_sec` integer,
	`schedule` text,
	`tz` text DEFAULT 'UTC' NOT NULL,
	`post_only` integer DEFAULT false NOT NULL,
	`keep_paused` integer DEFAULT false NOT NULL,
	`last_ping_at` integer,
	`next_due_at` integer,
	`last_start_at` integer,
	`last_start_rid` text,
	`url` text,
	`method` text,
	`headers` text,
	`body` text,
	`expected_status` text,
	`keyword` text,
	`keyword_mode` text,
	`follow_redirects` integer,
	`timeout_ms` integer,
	`degraded_after_ms` integer,
	`target_host` text,
	`target_port` integer,
	`tls_warn_days` integer,
	`failures_to_down` integer DEFAULT 2 NOT NULL,
	`successes_to_up` integer DEFAULT 1 NOT NULL,
	`consecutive_failures` integer DEFAULT 0 NOT NULL,
	`consecutive_successes` integer DEFAULT 0 NOT NULL,
	`last_run_at` integer,
	`last_error` text,
	`host_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `checks_alert_after_idx` ON `checks` (`alert_after`);--> statement-breakpoint
CREATE INDEX `checks_project_idx` ON `checks` (`project_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `checks_project_slug_idx` ON `checks` (`project_id`,`slug`);--> statement-breakpoint
CREATE INDEX `checks_host_idx` ON `checks` (`host_id`);--> statement-breakpoint
CREATE TABLE `flips` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`subject_type` text NOT NULL,
	`subject_id` text NOT NULL,
	`from_status` text NOT NULL,
	`to_status` text NOT NULL,
	`cause` text NOT NULL,
	`at` integer NOT NULL,
	`claimed_at` integer,
	`processed_at` integer,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `flips_subject_idx` ON `flips` (`project_id`,`subject_type`,`subject_id`,`at`);--> statement-breakpoint
CREATE INDEX `flips_unclaimed_idx` ON `flips` (`claimed_at`,`id`);--> statement-breakpoint
CREATE TABLE `incidents` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`subject_type` text NOT NULL,
	`subject_id` text NOT NULL,
	`cause` text NOT NULL,
	`opened_at` integer NOT NULL,
	`resolved_at` integer,
	`resolution` text,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `incidents_project_idx` ON `incidents` (`project_id`,`opened_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `incidents_one_open_idx` ON `incidents` (`subject_type`,`subject_id`) WHERE resolved_at is null;--> statement-breakpoint
CREATE TABLE `pings` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`check_id` text NOT NULL,
	`kind` text NOT NULL,
	`exit_status` integer,
	`rid` text,
	`duration_ms` integer,
	`method` text NOT NULL,
	`body` text,
	`user_agent` text,
	`remote_addr` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`check_id`) REFERENCES `checks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `pings_check_idx` ON `pings` (`check_id`,`id`);--> statement-breakpoint
CREATE INDEX `pings_check_rid_idx` ON `pings` (`check_id`,`rid`,`kind`);--> statement-breakpoint
CREATE TABLE `uptime_daily` (
	`project_id` text NOT NULL,
	`check_id` text NOT NULL,
	`day` integer NOT NULL,
	`up_ms` integer DEFAULT 0 NOT NULL,
	`degraded_ms` integer DEFAULT 0 NOT NULL,
	`down_ms` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`check_id`, `day`),
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`check_id`) REFERENCES `checks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `uptime_daily_day_idx` ON `uptime_daily` (`day`);