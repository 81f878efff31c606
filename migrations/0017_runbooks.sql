-- Runbooks (issue 21): the project's sealed secrets, runbooks (with a lifecycle task's schedule), runs with
-- their steps' progress, and the per-host commands of command steps that probes pick up with their batch answers.
CREATE TABLE `runbook_commands` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`run_id` text NOT NULL,
	`step_index` integer NOT NULL,
	`host_id` text NOT NULL,
	`command` text NOT NULL,
	`timeout_sec` integer NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`exit_code` integer,
	`output` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`ended_at` integer,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`run_id`) REFERENCES `runbook_runs`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `runbook_commands_host_idx` ON `runbook_commands` (`host_id`,`status`);--> statement-breakpoint
CREATE INDEX `runbook_commands_run_idx` ON `runbook_commands` (`run_id`,`step_index`);--> statement-breakpoint
CREATE TABLE `runbook_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`runbook_id` text NOT NULL,
	`runbook_name` text NOT NULL,
	`steps` text NOT NULL,
	`step_states` text NOT NULL,
	`host_ids` text NOT NULL,
	`status` text NOT NULL,
	`current_step` integer DEFAULT 0 NOT NULL,
	`started_by` text NOT NULL,
	`note` text,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	`cas` text NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `runbook_runs_project_idx` ON `runbook_runs` (`project_id`,`started_at`);--> statement-breakpoint
CREATE INDEX `runbook_runs_runbook_idx` ON `runbook_runs` (`runbook_id`,`started_at`);--> statement-breakpoint
CREATE TABLE `runbooks` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`steps` text NOT NULL,
	`hosts` text NOT NULL,
	`template` text,
	`schedule` text,
	`task_check_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `runbooks_project_idx` ON `runbooks` (`project_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `secrets` (
	`project_id` text NOT NULL,
	`name` text NOT NULL,
	`sealed` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`project_id`, `name`),
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
