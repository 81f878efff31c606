CREATE TABLE `status_notices` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`subscriber_id` text NOT NULL,
	`kind` text NOT NULL,
	`content` text NOT NULL,
	`state` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`claimed_at` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`sent_at` integer,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`subscriber_id`) REFERENCES `status_subscribers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `status_notices_due_idx` ON `status_notices` (`state`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `status_notices_subscriber_idx` ON `status_notices` (`subscriber_id`);--> statement-breakpoint
CREATE TABLE `status_subscriber_tokens` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`subscriber_id` text NOT NULL,
	`purpose` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`subscriber_id`) REFERENCES `status_subscribers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `status_subscriber_tokens_subscriber_idx` ON `status_subscriber_tokens` (`subscriber_id`);--> statement-breakpoint
CREATE TABLE `status_subscribers` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`page_id` text NOT NULL,
	`kind` text NOT NULL,
	`address` text NOT NULL,
	`components` text DEFAULT '[]' NOT NULL,
	`base_url` text NOT NULL,
	`confirmed_at` integer,
	`confirm_sent_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`page_id`) REFERENCES `status_pages`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `status_subscribers_page_address_idx` ON `status_subscribers` (`page_id`,`address`);--> statement-breakpoint
CREATE INDEX `status_subscribers_project_idx` ON `status_subscribers` (`project_id`);