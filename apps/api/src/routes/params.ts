import { z } from "zod";

/** `/:id` for resources whose ids are UUIDs; anything else is a 400 naming `path.id`. */
export const idParam = z.object({ id: z.uuid() });
