"""Routes of the documents app outside the router: the original systems' paths, kept exactly.

Paths are matched with and without a trailing slash: the original clients
post to `/api/v1/documents/agent/1/upload` and `/receipts`.
"""

from django.urls import re_path

from documents import views

app_name = "documents"
urlpatterns = [
    re_path(
        r"^api/v1/documents/agent/(?P<agent_id>[0-9]+)/upload/?$",
        views.AgentUploadView.as_view(),
        name="agent-upload",
    ),
    re_path(
        r"^api/v1/documents/agent/(?P<agent_id>[0-9]+)/url/?$",
        views.AgentUrlView.as_view(),
        name="agent-url",
    ),
    re_path(r"^receipts/?$", views.ReceiptsView.as_view(), name="receipts"),
    re_path(
        r"^receipts/ocr/process-all/?$",
        views.ProcessAllView.as_view(),
        name="receipts-process-all",
    ),
    re_path(
        r"^receipts/ocr/queue-status/?$",
        views.QueueStatusView.as_view(),
        name="receipts-queue-status",
    ),
    re_path(
        r"^receipts/ocr/clear-failed/?$",
        views.ClearFailedView.as_view(),
        name="receipts-clear-failed",
    ),
    re_path(
        r"^receipts/(?P<receipt_id>[0-9]+)/?$",
        views.ReceiptDetailView.as_view(),
        name="receipt-detail",
    ),
]
