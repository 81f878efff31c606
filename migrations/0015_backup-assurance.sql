-- Backup assurance (issue 18): the repositories probes check (one row per reporting host and name, with the
-- newest check and drill copied onto it), and every check and restore drill as history.
CREATE TABLE `backup_checks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`repository_id` integer NOT NULL,
	`status` text NOT NULL,
	`started_at` integer NOT NULL,
	`ended_at` integer NOT NULL,
	`exit_code` integer,
	`read_data_subset` text,
	`output` text,
	`size_bytes` integer,
	`snapshot_count` integer,
	`newest_snapshot_at` integer,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`repository_id`) REFERENCES `backup_repositories`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `backup_checks_repository_idx` ON `backup_checks` (`repository_id`,`ended_at`);--> statement-breakpoint
CREATE TABLE `backup_drills` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`repository_id` integer NOT NULL,
	`status` text NOT NULL,
	`started_at` integer NOT NULL,
	`ended_at` integer NOT NULL,
	`snapshot_id` text,
	`snapshot_at` integer,
	`files` integer NOT NULL,
	`bytes` integer NOT NULL,
	`mismatched` integer NOT NULL,
	`missing` integer NOT NULL,
	`canary` integer,
	`output` text,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`repository_id`) REFERENCES `backup_repositories`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `backup_drills_repository_idx` ON `backup_drills` (`repository_id`,`ended_at`);--> statement-breakpoint
CREATE TABLE `backup_repositories` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`host_id` text NOT NULL,
	`name` text NOT NULL,
	`tool` text NOT NULL,
	`location` text NOT NULL,
	`repo_id` text,
	`kind` text,
	`site` text,
	`kind_set` text,
	`site_set` text,
	`retention` text,
	`last_check_at` integer,
	`last_check_status` text,
	`last_check_output` text,
	`last_ok_check_at` integer,
	`size_bytes` integer,
	`snapshot_count` integer,
	`newest_snapshot_at` integer,
	`oldest_snapshot_at` integer,
	`sources` text,
	`last_drill_at` integer,
	`last_drill_status` text,
	`last_drill_output` text,
	`last_drill_files` integer,
	`last_drill_bytes` integer,
	`last_ok_drill_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `backup_repositories_host_name_idx` ON `backup_repositories` (`host_id`,`name`);--> statement-breakpoint
CREATE INDEX `backup_repositories_project_idx` ON `backup_repositories` (`project_id`);