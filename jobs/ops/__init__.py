"""The operator's view, engine side: signal hooks (webhooks, metrics counters, progress
history), the webhook job type and its sweep, and the refusal-counting middleware.

The admin pages live in jobs/admin/, their reads in jobs/selectors/ops, their
writes in jobs/services/{bulk,webhooks}.py and /metrics in jobs/metrics.py.
"""
