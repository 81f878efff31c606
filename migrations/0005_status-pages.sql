CREATE TABLE `response_daily` (
	`project_id` text NOT NULL,
	`check_id` text NOT NULL,
	`day` integer NOT NULL,
	`runs` integer DEFAULT 0 NOT NULL,
	`total_ms` integer DEFAULT 0 NOT NULL,
	`max_ms` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`check_id`, `day`),
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`check_id`) REFERENCES `checks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `status_incident_updates` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`status_incident_id` text NOT NULL,
	`status` text NOT NULL,
	`message` text NOT NULL,
	`at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`status_incident_id`) REFERENCES `status_incidents`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `status_incident_updates_incident_idx` ON `status_incident_updates` (`status_incident_id`,`at`);--> statement-breakpoint
CREATE TABLE `status_incidents` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`source_incident_id` text,
	`title` text,
	`impact` text,
	`affects` text DEFAULT '[]' NOT NULL,
	`started_at` integer NOT NULL,
	`resolved_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `status_incidents_source_incident_id_unique` ON `status_incidents` (`source_incident_id`);--> statement-breakpoint
CREATE INDEX `status_incidents_project_idx` ON `status_incidents` (`project_id`,`started_at`);--> statement-breakpoint
CREATE TABLE `status_maintenance` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`title` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`starts_at` integer NOT NULL,
	`ends_at` integer NOT NULL,
	`affects` text DEFAULT '[]' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `status_maintenance_project_idx` ON `status_maintenance` (`project_id`,`ends_at`);--> statement-breakpoint
CREATE TABLE `status_page_components` (
	`id` text PRIMARY KEY NOT NULL,
	`page_id` text NOT NULL,
	`project_id` text NOT NULL,
	`position` integer NOT NULL,
	`heading` text,
	`display_name` text NOT NULL,
	`subject_type` text NOT NULL,
	`subject_id` text NOT NULL,
	FOREIGN KEY (`page_id`) REFERENCES `status_pages`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `status_page_components_page_idx` ON `status_page_components` (`page_id`,`position`);--> statement-breakpoint
CREATE INDEX `status_page_components_subject_idx` ON `status_page_components` (`subject_type`,`subject_id`);--> statement-breakpoint
CREATE TABLE `status_pages` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`slug` text NOT NULL,
	`title` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`logo_url` text,
	`timezone` text DEFAULT 'UTC' NOT NULL,
	`custom_domain` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `status_pages_slug_unique` ON `status_pages` (`slug`);--> statement-breakpoint
CREATE UNIQUE INDEX `status_pages_custom_domain_unique` ON `status_pages` (`custom_domain`);--> statement-breakpoint
CREATE INDEX `status_pages_project_idx` ON `status_pages` (`project_id`);--> statement-breakpoint
ALTER TABLE `hosts` ADD `public` integer DEFAULT false NOT NULL;