CREATE TABLE `job_leases` (
	`job` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`taken_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
