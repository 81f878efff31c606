CREATE TABLE `alerts` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`rule_id` text NOT NULL,
	`host_id` text NOT NULL,
	`target_key` text NOT NULL,
	`labels` text DEFAULT '{}' NOT NULL,
	`label` text NOT NULL,
	`state` text DEFAULT 'inactive' NOT NULL,
	`state_changed_at` integer NOT NULL,
	`pending_since` integer,
	`firing_since` integer,
	`keep_firing_until` integer,
	`condition_since` integer,
	`active` integer DEFAULT false NOT NULL,
	`last_value` real,
	`cause` text DEFAULT '' NOT NULL,
	`observed` text DEFAULT '' NOT NULL,
	`condition` text DEFAULT '' NOT NULL,
	`value_text` text DEFAULT '' NOT NULL,
	`evaluated_at` integer NOT NULL,
	`due_at` integer,
	`cas` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`rule_id`) REFERENCES `rules`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alerts_target_idx` ON `alerts` (`rule_id`,`host_id`,`target_key`);--> statement-breakpoint
CREATE INDEX `alerts_host_idx` ON `alerts` (`host_id`);--> statement-breakpoint
CREATE INDEX `alerts_project_state_idx` ON `alerts` (`project_id`,`state`);--> statement-breakpoint
CREATE INDEX `alerts_due_idx` ON `alerts` (`due_at`);--> statement-breakpoint
CREATE TABLE `maintenance_windows` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`name` text NOT NULL,
	`matchers` text NOT NULL,
	`schedule` text NOT NULL,
	`tz` text DEFAULT 'UTC' NOT NULL,
	`duration_min` integer NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`comment` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `maintenance_windows_project_idx` ON `maintenance_windows` (`project_id`);--> statement-breakpoint
CREATE TABLE `rules` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`builtin` text,
	`enabled` integer DEFAULT true NOT NULL,
	`scope` text DEFAULT 'all' NOT NULL,
	`scope_tag` text,
	`scope_host_id` text,
	`params` text DEFAULT '{}' NOT NULL,
	`for_sec` integer DEFAULT 0 NOT NULL,
	`keep_firing_for_sec` integer DEFAULT 0 NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`runbook_url` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`scope_host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `rules_project_idx` ON `rules` (`project_id`,`enabled`);--> statement-breakpoint
CREATE UNIQUE INDEX `rules_project_builtin_idx` ON `rules` (`project_id`,`builtin`);--> statement-breakpoint
CREATE TABLE `silences` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`matchers` text NOT NULL,
	`starts_at` integer NOT NULL,
	`ends_at` integer NOT NULL,
	`comment` text DEFAULT '' NOT NULL,
	`author` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `silences_project_ends_idx` ON `silences` (`project_id`,`ends_at`);