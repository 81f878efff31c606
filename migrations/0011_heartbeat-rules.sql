ALTER TABLE `checks` ADD `body_keywords` text;--> statement-breakpoint
ALTER TABLE `checks` ADD `min_run_sec` integer;--> statement-breakpoint
ALTER TABLE `checks` ADD `max_run_sec` integer;--> statement-breakpoint
ALTER TABLE `checks` ADD `start_grace_sec` integer;--> statement-breakpoint
ALTER TABLE `checks` ADD `min_interval_sec` integer;