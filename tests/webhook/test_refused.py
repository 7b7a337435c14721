"""Requests the webhook refuses are answered as AdmissionReviews when their uid can be read.

Seen: a review refused with HTTP 413 (over the limit) or 400 was admitted unchecked under
`failurePolicy: Ignore`; a CREATE of a known kind with a null `object` was allowed; 70 reviews with
1 MB kinds grew the metrics to 66 MiB.
"""

from __future__ import annotations

import json

import pytest
from recorded import recorded, set_object

pytest.importorskip("flask")

from kexlint.webhook.app import create_app  # noqa: E402


def client_for(tmp_path, config: str):
    path = tmp_path / ".kexlint.yaml"
    path.write_text(config)
    return create_app(path).test_client()


@pytest.mark.parametrize("mode, allowed", [("allow", True), ("deny", False)])
def test_oversized_review_gets_the_failure_verdict_with_its_uid(tmp_path, mode, allowed):
    client = client_for(tmp_path, f"webhook:\n  max-request-bytes: 4096\n  failure-mode: {mode}\n")
    body = recorded("review-v1-pod-by-replicaset-controller")
    body["request"]["object"]["metadata"]["annotations"] = {"pad": "x" * 10000}
    answer = client.post("/validate", data=json.dumps(body), content_type="application/json")
    assert answer.status_code == 200
    review = answer.json
    assert review["apiVersion"] == "admission.k8s.io/v1" and review["kind"] == "AdmissionReview"
    response = review["response"]
    assert response["uid"] == body["request"]["uid"] and response["allowed"] is allowed
    text = response["warnings"][0] if allowed else response["status"]["message"]
    assert "over the limit of 4096" in text and f"failure-mode {mode}" in text
    if not allowed:
        assert response["status"]["code"] == 413


def test_malformed_json_with_a_readable_uid_is_answered_in_its_version(tmp_path):
    client = client_for(tmp_path, "webhook:\n  failure-mode: deny\n")
    raw = json.dumps(recorded("review-v1beta1-pod-by-replicaset-controller"))[:-40]  # cut off
    answer = client.post("/validate", data=raw, content_type="application/json")
    assert answer.status_code == 200
    assert answer.json["apiVersion"] == "admission.k8s.io/v1beta1"
    assert answer.json["response"]["allowed"] is False and answer.json["response"]["status"]["code"] == 400


def test_without_a_uid_a_bare_http_error_is_all_there_is(tmp_path):
    client = client_for(tmp_path, "webhook:\n  max-request-bytes: 4096\n")
    assert client.post("/validate", data=b"x" * 5000, content_type="application/json").status_code == 413


@pytest.mark.parametrize("operation", ["CREATE", "UPDATE"])
@pytest.mark.parametrize("missing", ["null", "absent"])
def test_known_kind_without_object_is_denied_as_malformed(tmp_path, operation, missing):
    client = client_for(tmp_path, "")
    body = set_object(recorded("review-v1-pod-by-replicaset-controller"), None, operation=operation)
    body["request"]["userInfo"] = {"username": "admin"}
    if missing == "absent":
        del body["request"]["object"]
    response = client.post("/validate", json=body).json["response"]
    assert response["allowed"] is False
    assert response["status"]["code"] == 400 and "has no object" in response["status"]["message"]


def test_metrics_labels_only_from_known_values(tmp_path):
    client = client_for(tmp_path, "")
    for i in range(70):
        body = recorded("review-v1-pod-by-replicaset-controller")
        body["request"]["kind"]["kind"] = f"{i}" + "K" * 1_000_000
        client.post("/validate", json=body)
    from kexlint.webhook import metrics

    text = metrics.exposition().decode()  # what the metrics port serves
    assert len(text) < 64 * 1024
    assert 'kind="other"' in text and "KKKK" not in text


def test_metrics_labels_from_operations_and_annotation_rules_are_bounded_too(tmp_path):
    """The operation and an `ignore.kexlint.io/<rule>` annotation's rule are the client's text as well."""
    client = client_for(tmp_path, "webhook:\n  suppression: {annotations: nowhere}\n")
    for i in range(20):
        body = recorded("review-v1-pod-by-replicaset-controller")
        body["request"]["operation"] = f"{i}" + "O" * 100_000
        client.post("/validate", json=body)
        body = recorded("review-v1-pod-by-replicaset-controller")
        body["request"]["userInfo"] = {"username": "tenant"}
        spec = body["request"]["object"]["spec"]
        spec["hostNetwork"] = True
        body["request"]["object"]["metadata"]["annotations"] = {
            "ignore.kexlint.io/host-network": "mine", f"ignore.kexlint.io/{i}" + "R" * 60: "x"}
        assert client.post("/validate", json=body).json["response"]["allowed"] is False
    from kexlint.webhook import metrics

    text = metrics.exposition().decode()
    assert "OOOO" not in text and "RRRR" not in text and 'operation="other"' in text
    assert 'kexlint_webhook_suppressions_refused_total{rule="host-network"}' in text
