"""Admin of the job engine: jobs (read-only, with retry/cancel/purge and each job's
story), queues, the live dashboard, failure groups, metrics, webhooks.

Services own every state change: the admin shows rows and calls services,
it never saves a job, queue or snapshot itself.
"""

from jobs.admin import dashboard  # noqa: F401
from jobs.admin import failures  # noqa: F401
from jobs.admin import jobs  # noqa: F401
from jobs.admin import metrics  # noqa: F401
from jobs.admin import queues  # noqa: F401
from jobs.admin import results  # noqa: F401
from jobs.admin import webhooks  # noqa: F401
