ALTER TABLE `channels` ADD `reminder_limit` integer;--> statement-breakpoint
ALTER TABLE `reminders` ADD `sent` integer DEFAULT 0 NOT NULL;