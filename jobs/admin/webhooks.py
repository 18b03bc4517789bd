"""Webhook endpoints (per owner, for job outcomes) and their delivery log."""

from django import forms
from django.contrib import admin
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from jobs import services
from jobs.admin.display import moment_display
from jobs.admin.display import pretty_json
from jobs.models import WebhookDelivery
from jobs.models import WebhookEndpoint
from jobs.selectors.ops import job_type_names
from jobs.services.webhooks import WEBHOOK_JOB_TYPE
from jobs.services.webhooks import webhook_url_check


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        max_length=2000,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"class": "vURLField"}),
    )
    events = forms.MultipleChoiceField(
        choices=WebhookEndpoint.Event.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=list(WebhookEndpoint.Event.values),
    )
    job_types = forms.MultipleChoiceField(
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only jobs of these types; none ticked: every type.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["owner", "url", "events", "job_types", "description", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["job_types"].choices = [
            (name, name) for name in job_type_names() if name != WEBHOOK_JOB_TYPE
        ]

    def clean_url(self):
        try:
            return webhook_url_check(url=self.cleaned_data["url"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict.get("url", exc.messages)) from None


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "owner", "events_display", "job_types_display", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["owner"]
    search_fields = ["url", "owner__username", "description"]
    autocomplete_fields = []
    readonly_fields = ["secret", "created_at", "updated_at", "deliveries_link"]
    actions = ["rotate_secrets"]

    class Media:
        css = {"all": ["jobs/ops/ops.css"]}

    def get_fields(self, request, obj=None):
        fields = ["owner", "url", "events", "job_types", "description", "is_active"]
        if obj is not None:
            fields += ["secret", "created_at", "updated_at", "deliveries_link"]
        return fields

    @admin.display(description="events")
    def events_display(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events) or "—"

    @admin.display(description="job types")
    def job_types_display(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.job_types) or "every type"

    @admin.display(description="deliveries")
    def deliveries_link(self, endpoint: WebhookEndpoint) -> str:
        url = reverse("admin:jobs_webhookdelivery_changelist")
        return format_html(
            '<a href="{}?endpoint__id__exact={}">delivery log</a>', url, endpoint.pk
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.webhook_endpoint_update(
                endpoint=obj,
                owner=data["owner"],
                url=data["url"],
                events=list(data["events"]),
                job_types=list(data["job_types"]),
                description=data["description"],
                is_active=data["is_active"],
            )
            return
        created = services.webhook_endpoint_create(
            owner=data["owner"],
            url=data["url"],
            events=list(data["events"]),
            job_types=list(data["job_types"]),
            description=data["description"],
            is_active=data["is_active"],
        )
        obj.pk = created.pk
        obj.secret = created.secret
        obj.created_at = created.created_at

    @admin.action(
        description="Give the selected endpoints a new secret", permissions=["change"]
    )
    def rotate_secrets(self, request, queryset):
        for endpoint in queryset:
            services.webhook_endpoint_rotate_secret(endpoint=endpoint)
        self.message_user(
            request,
            f"New secrets for {queryset.count()} endpoint(s); receivers must use them now.",
            messages.WARNING,
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at_display",
        "event",
        "owner",
        "url_short",
        "attempt",
        "outcome",
        "response_status",
        "duration_ms",
        "job_link",
    ]
    list_filter = ["outcome", "event"]
    list_select_related = ["owner"]
    search_fields = ["url", "event_id", "error"]
    show_full_result_count = False
    fields = [
        "created_at_display",
        "event",
        "event_id",
        "owner",
        "endpoint",
        "url",
        "attempt",
        "outcome",
        "response_status",
        "duration_ms",
        "job_link",
        "delivery_job_link",
        "error",
        "response_body",
        "payload_pretty",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="at (UTC)", ordering="created_at")
    def created_at_display(self, delivery: WebhookDelivery) -> str:
        return moment_display(delivery.created_at)

    @admin.display(description="url")
    def url_short(self, delivery: WebhookDelivery) -> str:
        return delivery.url if len(delivery.url) <= 60 else delivery.url[:57] + "…"

    @admin.display(description="job")
    def job_link(self, delivery: WebhookDelivery) -> str:
        if delivery.job_id is None:
            return "—"
        url = reverse("admin:jobs_processingjob_change", args=[delivery.job_id])
        return format_html('<a href="{}">{}</a>', url, str(delivery.job_id)[:8])

    @admin.display(description="delivery job")
    def delivery_job_link(self, delivery: WebhookDelivery) -> str:
        if delivery.delivery_job_id is None:
            return "—"
        url = reverse(
            "admin:jobs_processingjob_change", args=[delivery.delivery_job_id]
        )
        return format_html(
            '<a href="{}">{}</a>', url, str(delivery.delivery_job_id)[:8]
        )

    @admin.display(description="payload")
    def payload_pretty(self, delivery: WebhookDelivery) -> str:
        return pretty_json(delivery.payload)
