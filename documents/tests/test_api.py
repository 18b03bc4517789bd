"""The HTTP contract: the original routes' exact shapes, the DRF resources, permissions
(owner, other user, staff, anonymous), refusals as JSON, and rate limits."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from documents import services
from documents.models import Document
from documents.models import Receipt
from documents.tests import samples
from documents.tests.factories import ChunkFactory
from documents.tests.factories import DocumentFactory
from documents.tests.factories import ReceiptFactory
from jobs.models import ProcessingJob

pytestmark = pytest.mark.django_db

PDF = samples.text_pdf(["Pallets shipped to the northern region. " * 20])
UPLOAD_KEYS = {"id", "task_id", "status", "filename", "message", "processing_note"}


def upload_url(agent_id) -> str:
    return f"/api/v1/documents/agent/{agent_id}/upload"


def post_file(client, url, data=PDF, name="report.pdf", **extra):
    return client.post(
        url, {"file": SimpleUploadedFile(name, data), **extra}, format="multipart"
    )


# ORIGINAL UPLOAD ROUTE ------------------------------------------------------------


def test_upload_route_answers_the_original_shape(user_client, collection):
    response = post_file(user_client, upload_url(collection.pk))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == UPLOAD_KEYS
    job = ProcessingJob.objects.get(job_type="documents.process")
    assert body["id"] == Document.objects.get().pk
    assert body["task_id"] == job.task_id
    assert body["status"] == "queued"
    assert body["filename"] == "report.pdf"
    assert body["message"] == "Document uploaded successfully and queued for processing"
    assert (
        body["processing_note"]
        == f"Use GET /api/v1/tasks/{job.task_id} to check progress"
    )


def test_upload_route_accepts_a_trailing_slash(user_client, collection):
    response = post_file(user_client, upload_url(collection.pk) + "/")
    assert response.status_code == 200


def test_task_route_answers_the_original_shape_for_a_document(user_client, collection):
    """GET /api/v1/tasks/{task_id}: PENDING, then the job's progress, document_id, chunk_count."""
    body = post_file(user_client, upload_url(collection.pk)).json()
    status = user_client.get(f"/api/v1/tasks/{body['task_id']}/").json()
    assert status["task_id"] == body["task_id"]
    assert status["state"] == "PENDING"
    assert (status["current"], status["total"]) == (0, 100)
    assert status["document_id"] == body["id"]
    assert status["chunk_count"] is None
    job = ProcessingJob.objects.get(task_id=body["task_id"])
    services.document_process(document_id=body["id"], progress=lambda *a, **k: None)
    ProcessingJob.objects.filter(id=job.id).update(
        status="completed",
        progress=100,
        progress_message="Processed report.pdf: 1 chunks",
        result={"document_id": body["id"], "chunk_count": 1},
    )
    done = user_client.get(f"/api/v1/tasks/{body['task_id']}/").json()
    assert done["state"] == "SUCCESS"
    assert done["status"] == "Processed report.pdf: 1 chunks"
    assert (done["current"], done["chunk_count"], done["document_id"]) == (
        100,
        1,
        body["id"],
    )


def test_task_route_cancels_with_the_original_answer(user_client, collection):
    body = post_file(user_client, upload_url(collection.pk)).json()
    response = user_client.delete(f"/api/v1/tasks/{body['task_id']}/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert {"task_id", "status", "message"} <= set(response.json())
    document = user_client.get(f"/api/v1/documents/{body['id']}/").json()
    assert document["status"] == "cancelled"
    # Recorded on the row by the engine's cancel hook, not only shown.
    from documents.models import Document

    assert Document.objects.get(id=body["id"]).status == "cancelled"


def test_another_users_collection_is_not_found(user_client, other_collection):
    response = post_file(user_client, upload_url(other_collection.pk))
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_anonymous_upload_is_refused(anon_client, collection):
    assert post_file(anon_client, upload_url(collection.pk)).status_code == 401


@pytest.mark.parametrize(
    ("data", "name", "status", "code"),
    [
        (b"", "empty.pdf", 400, "empty"),
        (b"\x7fELF" + b"\x00" * 100, "x.pdf", 415, "unsupported_type"),
        (
            samples.docx_bomb(uncompressed_bytes=300 * 1024 * 1024),
            "b.docx",
            413,
            "archive_bomb",
        ),
    ],
)
def test_bad_files_are_refused_with_a_json_reason(
    user_client, collection, data, name, status, code
):
    response = post_file(user_client, upload_url(collection.pk), data=data, name=name)
    assert response.status_code == status
    assert response.json()["error"] == code
    assert response.json()["detail"]


def test_missing_file_field_is_a_400(user_client, collection):
    response = user_client.post(upload_url(collection.pk), {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["detail"]


def test_duplicate_upload_is_a_409_naming_the_document(user_client, collection):
    first = post_file(user_client, upload_url(collection.pk)).json()
    ProcessingJob.objects.update(status="completed")
    Document.objects.update(status="completed")
    response = post_file(user_client, upload_url(collection.pk))
    assert response.status_code == 409
    assert response.json()["error"] == "duplicate_document"
    assert response.json()["document_id"] == first["id"]


def test_upload_flood_is_refused_by_the_rate_limit(user_client, collection, settings):
    settings.DOCUMENTS_RATE_LIMITS = {**settings.DOCUMENTS_RATE_LIMITS, "upload": "2/m"}
    codes = [
        post_file(
            user_client,
            upload_url(collection.pk),
            data=PDF + bytes([n]),
            name=f"{n}.pdf",
        ).status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]


# URL ROUTE --------------------------------------------------------------------------


def test_url_route_queues_a_page_on_the_low_queue(
    user_client, collection, web, loopback_allowed
):
    response = user_client.post(
        f"/api/v1/documents/agent/{collection.pk}/url",
        {"url": web.url("/article")},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "queued"
    assert body["url"] == web.url("/article")
    job = ProcessingJob.objects.get(task_id=body["task_id"])
    assert (job.job_type, job.queue) == ("documents.webpage", "low")


def test_url_route_refuses_internal_addresses(user_client, collection):
    response = user_client.post(
        f"/api/v1/documents/agent/{collection.pk}/url",
        {"url": "http://169.254.169.254/latest/meta-data/"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "forbidden_url"
    assert "link-local" in response.json()["detail"]


# DRF: COLLECTIONS AND DOCUMENTS ------------------------------------------------------


def test_collections_are_owner_scoped(
    user_client, staff_client, collection, other_collection
):
    mine = user_client.get("/api/v1/collections/").json()["results"]
    assert [item["id"] for item in mine] == [collection.pk]
    everyone = staff_client.get("/api/v1/collections/").json()["results"]
    assert {item["id"] for item in everyone} == {collection.pk, other_collection.pk}
    assert (
        user_client.get(f"/api/v1/collections/{other_collection.pk}/").status_code
        == 404
    )


def test_collection_create_update_and_delete(user_client):
    created = user_client.post(
        "/api/v1/collections/", {"name": "Recipes", "search_language": "french"}
    )
    assert created.status_code == 201
    assert created.json()["search_language"] == "french"
    assert created.json()["document_count"] == 0
    duplicate = user_client.post("/api/v1/collections/", {"name": "Recipes"})
    assert duplicate.status_code == 400
    pk = created.json()["id"]
    changed = user_client.patch(f"/api/v1/collections/{pk}/", {"name": "Cooking"})
    assert changed.json()["name"] == "Cooking"
    assert user_client.delete(f"/api/v1/collections/{pk}/").status_code == 204


def test_documents_create_by_file_or_url(
    user_client, collection, web, loopback_allowed
):
    by_file = user_client.post(
        "/api/v1/documents/",
        {"collection": collection.pk, "file": SimpleUploadedFile("a.pdf", PDF)},
        format="multipart",
    )
    assert by_file.status_code == 201
    assert by_file.json()["status"] == "queued"
    assert by_file.json()["task_id"]
    by_url = user_client.post(
        "/api/v1/documents/",
        {"collection": collection.pk, "url": web.url("/article")},
        format="multipart",
    )
    assert by_url.status_code == 201
    assert by_url.json()["source_url"] == web.url("/article")
    neither = user_client.post("/api/v1/documents/", {"collection": collection.pk})
    assert neither.status_code == 400


def test_documents_list_filters_and_visibility(
    user_client, staff_client, collection, other_collection
):
    DocumentFactory(collection=collection, kind="pdf")
    DocumentFactory(collection=collection, kind="docx", status="failed")
    DocumentFactory(collection=other_collection)
    assert user_client.get("/api/v1/documents/").json()["count"] == 2
    assert user_client.get("/api/v1/documents/?kind=docx").json()["count"] == 1
    assert user_client.get("/api/v1/documents/?status=failed").json()["count"] == 1
    assert staff_client.get("/api/v1/documents/").json()["count"] == 3
    bad = user_client.get("/api/v1/documents/?created_after=99999-01-01")
    assert bad.status_code == 400


def test_document_chunks_and_reprocess(user_client, other_user, collection):
    document = DocumentFactory(collection=collection)
    ChunkFactory(document=document, order=0, page_number=2)
    chunks = user_client.get(f"/api/v1/documents/{document.pk}/chunks/").json()
    assert chunks["results"][0]["page_number"] == 2
    again = user_client.post(f"/api/v1/documents/{document.pk}/reprocess/")
    assert again.status_code == 202
    conflict = user_client.post(f"/api/v1/documents/{document.pk}/reprocess/")
    assert conflict.status_code == 409


def test_search_route_answers_ranked_hits_with_snippets(
    user_client, other_user, collection
):
    document = DocumentFactory(collection=collection, title="Logistics")
    ChunkFactory(
        document=document, text="Pallets shipped north; pallets stacked.", page_number=4
    )
    ChunkFactory(
        document=DocumentFactory(collection__owner=other_user),
        text="Pallets of the other user.",
    )
    body = user_client.get("/api/v1/documents/search/?q=pallets").json()
    assert body["count"] == 1
    assert body["has_more"] is False
    (hit,) = body["results"]
    assert hit["page_number"] == 4
    assert hit["document_title"] == "Logistics"
    assert "<mark>" in hit["snippet"]
    assert set(hit) >= {"chunk_id", "document_id", "collection_id", "score", "text"}
    scoped = user_client.get(
        f"/api/v1/documents/search/?q=pallets&collection={collection.pk}"
    )
    assert scoped.json()["count"] == 1


def test_search_route_validates_its_parameters(user_client):
    assert user_client.get("/api/v1/documents/search/").status_code == 400
    assert (
        user_client.get("/api/v1/documents/search/?q=a&limit=1000").status_code == 400
    )
    assert (
        user_client.get("/api/v1/documents/search/?q=a&collection=x").status_code == 400
    )


def test_delete_a_document(user_client, other_user, collection):
    document = DocumentFactory(collection=collection)
    theirs = DocumentFactory(collection__owner=other_user)
    assert user_client.delete(f"/api/v1/documents/{theirs.pk}/").status_code == 404
    assert user_client.delete(f"/api/v1/documents/{document.pk}/").status_code == 204
    assert not Document.objects.filter(pk=document.pk).exists()


# ORIGINAL RECEIPT ROUTES --------------------------------------------------------------


def post_receipt(client, data=None, purchase_date="2025-03-14", name="r.jpg"):
    return client.post(
        "/receipts",
        {
            "file": SimpleUploadedFile(
                name, data or samples.receipt_image(samples.CAFE)
            ),
            "purchase_date": purchase_date,
        },
        format="multipart",
    )


def test_post_receipt_stores_it_and_queues_ocr(user_client, user):
    response = post_receipt(user_client)
    assert response.status_code == 201
    body = response.json()
    assert body["purchase_date"] == "2025-03-14"
    assert body["status"] == "queued"
    assert body["owner"] == user.username


@pytest.mark.parametrize(
    "purchase_date",
    [
        "2025-02-30",
        "tomorrow",
        "",
        "1850-01-01",
        "9999-12-31",
        "2025-03-14T10:00:00+99:00",
    ],
)
def test_purchase_date_is_validated(user_client, purchase_date):
    response = post_receipt(user_client, purchase_date=purchase_date)
    assert response.status_code == 400
    assert "purchase_date" in response.json()["detail"]
    assert Receipt.objects.count() == 0


def test_purchase_date_in_the_future_is_refused(user_client):
    future = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    response = post_receipt(user_client, purchase_date=future)
    assert response.status_code == 400
    assert "future" in str(response.json()["detail"])


def test_receipt_that_is_not_an_image_is_refused(user_client):
    response = post_receipt(user_client, data=PDF, name="r.pdf")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_image"


def test_process_all_answers_the_original_shape(user_client, user, settings):
    settings.DOCUMENTS_RECEIPT_AUTO_OCR = False
    ids = [post_receipt(user_client).json()["id"] for _ in range(2)]
    response = user_client.post(f"/receipts/ocr/process-all?user_id={user.pk}")
    assert response.status_code == 200
    assert response.json() == {"queued": 2, "job_ids": [f"ocr-{pk}" for pk in ids]}
    again = user_client.post("/receipts/ocr/process-all")
    assert again.json() == {"queued": 0, "job_ids": []}


def test_process_all_for_another_user_is_staff_only(
    user_client, staff_client, other_user
):
    ReceiptFactory(owner=other_user)
    refused = user_client.post(f"/receipts/ocr/process-all?user_id={other_user.pk}")
    assert refused.status_code == 403
    allowed = staff_client.post(f"/receipts/ocr/process-all?user_id={other_user.pk}")
    assert allowed.json()["queued"] == 1
    assert (
        staff_client.post("/receipts/ocr/process-all?user_id=999999").status_code == 404
    )
    assert user_client.post("/receipts/ocr/process-all?user_id=abc").status_code == 400


def test_process_all_flood_is_refused(user_client, settings):
    settings.DOCUMENTS_RATE_LIMITS = {
        **settings.DOCUMENTS_RATE_LIMITS,
        "receipt_process_all": "3/m",
    }
    codes = [
        user_client.post("/receipts/ocr/process-all").status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def test_queue_status_answers_the_original_shape(user_client):
    post_receipt(user_client)
    body = user_client.get("/receipts/ocr/queue-status").json()
    assert body == {
        "name": "receipt-ocr",
        "count": 1,
        "started_jobs": 0,
        "finished_jobs": 0,
        "failed_jobs": 0,
        "scheduled_jobs": 0,
        "deferred_jobs": 0,
    }


def test_queue_status_of_one_receipt_answers_its_job(user_client, other_user):
    receipt_id = post_receipt(user_client).json()["id"]
    body = user_client.get(f"/receipts/ocr/queue-status?receipt_id={receipt_id}").json()
    assert set(body) == {
        "job_id",
        "status",
        "created_at",
        "started_at",
        "ended_at",
        "result",
        "exc_info",
    }
    assert body["job_id"] == f"ocr-{receipt_id}"
    assert body["status"] == "queued"
    assert body["started_at"] is None and body["result"] is None
    ProcessingJob.objects.update(
        status="failed", error_message="boom", traceback="Traceback…"
    )
    failed = user_client.get(
        f"/receipts/ocr/queue-status?receipt_id={receipt_id}"
    ).json()
    assert (failed["status"], failed["exc_info"]) == ("failed", "Traceback…")
    theirs = ReceiptFactory(owner=other_user)
    missing = user_client.get(f"/receipts/ocr/queue-status?receipt_id={theirs.pk}")
    assert missing.status_code == 404


def test_clear_failed_answers_the_count(user_client, user, other_user):
    ReceiptFactory(owner=user, status="failed")
    ReceiptFactory(owner=other_user, status="failed")
    assert user_client.post("/receipts/ocr/clear-failed").json() == {"cleared": 1}


def test_receipts_list_and_detail_are_owner_scoped(user_client, user, other_user):
    mine = ReceiptFactory(owner=user)
    theirs = ReceiptFactory(owner=other_user)
    listed = user_client.get("/receipts").json()
    assert [item["id"] for item in listed["results"]] == [mine.pk]
    assert user_client.get(f"/receipts/{mine.pk}").status_code == 200
    assert user_client.get(f"/receipts/{theirs.pk}").status_code == 404
    assert user_client.delete(f"/receipts/{mine.pk}").status_code == 204


def test_receipt_routes_need_authentication(anon_client):
    for response in (
        anon_client.get("/receipts"),
        anon_client.post("/receipts/ocr/process-all"),
        anon_client.get("/receipts/ocr/queue-status"),
    ):
        assert response.status_code == 401
        assert response.json()["error"] == "not_authenticated"


def test_drf_receipts_resource(user_client, staff_client, user, other_user):
    ReceiptFactory(owner=user)
    ReceiptFactory(owner=other_user)
    assert user_client.get("/api/v1/receipts/").json()["count"] == 1
    assert staff_client.get("/api/v1/receipts/").json()["count"] == 2
    receipt_id = user_client.get("/api/v1/receipts/").json()["results"][0]["id"]
    queued = user_client.post(f"/api/v1/receipts/{receipt_id}/reprocess/")
    assert queued.status_code == 202
    assert queued.json()["job_id"] == f"ocr-{receipt_id}"


# WEBHOOK ENDPOINTS --------------------------------------------------------------------


def test_webhook_endpoint_secret_is_shown_once(user_client, web, loopback_allowed):
    created = user_client.post("/api/v1/document-webhooks/", {"url": web.url("/hook")})
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    pk = created.json()["id"]
    shown = user_client.get(f"/api/v1/document-webhooks/{pk}/").json()
    assert "secret" not in shown
    rotated = user_client.post(f"/api/v1/document-webhooks/{pk}/rotate-secret/").json()
    assert rotated["secret"] != secret
    assert user_client.post(f"/api/v1/document-webhooks/{pk}/test/").status_code == 202
    assert (
        user_client.get(f"/api/v1/document-webhooks/{pk}/deliveries/").status_code
        == 200
    )


def test_webhook_endpoint_refuses_internal_urls(user_client):
    response = user_client.post(
        "/api/v1/document-webhooks/", {"url": "http://10.0.0.5/hook"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "forbidden_url"


def test_other_users_endpoints_are_invisible(user_client, other_user):
    services.webhook_endpoint_set(owner=other_user, url="https://hooks.example.com/x")
    assert user_client.get("/api/v1/document-webhooks/").json()["count"] == 0
