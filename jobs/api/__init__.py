"""The job engine's REST API: jobs, queues, workers and task status (staff only)."""
