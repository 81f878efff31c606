CREATE TABLE `channels` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`config` text NOT NULL,
	`secret_sealed` text,
	`events` text NOT NULL,
	`is_default` integer DEFAULT false NOT NULL,
	`tags` text DEFAULT '[]' NOT NULL,
	`subject_ids` text DEFAULT '[]' NOT NULL,
	`reminder_sec` integer,
	`group_window_sec` integer DEFAULT 0 NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`failing_since` integer,
	`last_error` text,
	`last_sent_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `channels_project_idx` ON `channels` (`project_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`channel_id` text NOT NULL,
	`state` text NOT NULL,
	`title` text NOT NULL,
	`payload` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`claimed_at` integer,
	`created_at` integer NOT NULL,
	`sent_at` integer,
	`last_error` text,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`channel_id`) REFERENCES `channels`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `deliveries_due_idx` ON `deliveries` (`state`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `deliveries_channel_idx` ON `deliveries` (`channel_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `delivery_attempts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`delivery_id` text NOT NULL,
	`at` integer NOT NULL,
	`outcome` text NOT NULL,
	`status` integer,
	`error` text,
	`latency_ms` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`delivery_id`) REFERENCES `deliveries`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `delivery_attempts_delivery_idx` ON `delivery_attempts` (`delivery_id`,`id`);--> statement-breakpoint
CREATE TABLE `notifications` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`channel_id` text NOT NULL,
	`kind` text NOT NULL,
	`flip_id` integer,
	`subject_type` text,
	`subject_id` text,
	`event` text NOT NULL,
	`title` text NOT NULL,
	`change` text NOT NULL,
	`state` text NOT NULL,
	`suppressed_reason` text,
	`inhibited_by` text,
	`delivery_id` text,
	`due_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`channel_id`) REFERENCES `channels`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `notifications_flip_channel_idx` ON `notifications` (`flip_id`,`channel_id`) WHERE kind = 'change';--> statement-breakpoint
CREATE INDEX `notifications_queued_idx` ON `notifications` (`state`,`due_at`);--> statement-breakpoint
CREATE INDEX `notifications_delivery_idx` ON `notifications` (`delivery_id`);--> statement-breakpoint
CREATE INDEX `notifications_subject_idx` ON `notifications` (`project_id`,`subject_type`,`subject_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `notifications_inhibited_idx` ON `notifications` (`inhibited_by`);--> statement-breakpoint
CREATE TABLE `reminders` (
	`project_id` text NOT NULL,
	`channel_id` text NOT NULL,
	`subject_type` text NOT NULL,
	`subject_id` text NOT NULL,
	`flip_id` integer NOT NULL,
	`next_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`channel_id`) REFERENCES `channels`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reminders_subject_idx` ON `reminders` (`channel_id`,`subject_type`,`subject_id`);--> statement-breakpoint
CREATE INDEX `reminders_due_idx` ON `reminders` (`next_at`);