"""kexlint.cluster.client against the fake apiserver: pages, absent and forbidden kinds, errors, watches."""

from __future__ import annotations

import threading

import fakeapi
import pytest
from fakeapi import recorded_pods

from kexlint.cluster import KINDS, ClusterError, Forbidden, Gone, connect

POD, SVC, GATEWAY = KINDS["Pod"], KINDS["Service"], KINDS["Gateway"]


def pod(name: str, namespace: str = "default", **spec) -> dict:
    return {"metadata": {"name": name, "namespace": namespace}, "spec": {"containers": [{"name": "c"}], **spec}}


def test_list_follows_continue_pages_and_fills_in_kind(fake_api):
    for i in range(5):
        fake_api.put(POD, pod(f"extra-{i}"))
    with connect(str(fake_api.kubeconfig)) as cluster:
        listing = cluster.list(POD, page_size=2)
        items = list(listing)
    names = [i["metadata"]["name"] for i in items]
    assert len(names) == len(recorded_pods()) + 5 == len(set(names))
    assert all(i["kind"] == "Pod" and i["apiVersion"] == "v1" for i in items)
    assert listing.pages == 5 and listing.consistent
    assert listing.resource_version == str(fake_api.rv)
    lists = [q for path, q in fake_api.requests if path == "/api/v1/pods"]
    assert [q.get("limit") for q in lists] == ["2"] * 5
    assert "continue" not in lists[0] and all("continue" in q for q in lists[1:])


def test_list_yields_items_before_reading_the_next_page(fake_api):
    with connect(str(fake_api.kubeconfig)) as cluster:
        listing = cluster.list(POD, page_size=2)
        next(listing)
        assert len(fake_api.requests) == 1  # bounded memory: one page at a time


def test_kind_without_api_is_absent_not_an_error(fake_api):
    with connect(str(fake_api.kubeconfig)) as cluster:
        listing = cluster.list(GATEWAY)
        assert list(listing) == [] and listing.absent
        assert GATEWAY in cluster.absent
        fake_api.served.add(GATEWAY)
        fake_api.put(GATEWAY, {"metadata": {"name": "gw", "namespace": "infra"}, "spec": {"listeners": []}})
        assert [g["metadata"]["name"] for g in cluster.list(GATEWAY)] == ["gw"]


def test_forbidden_kind_names_the_kind(fake_api):
    fake_api.forbidden.add("services")
    with connect(str(fake_api.kubeconfig)) as cluster:
        with pytest.raises(Forbidden) as caught:
            list(cluster.list(SVC))
        assert caught.value.kind == SVC
        assert str(caught.value).startswith('forbidden to read services: services is forbidden: User "system:')
        assert len(list(cluster.list(POD))) == len(recorded_pods())  # the other kinds still read


def test_expired_continue_goes_on_inconsistently_or_raises(fake_api):
    with connect(str(fake_api.kubeconfig)) as cluster:
        fake_api.gone_next_continue = 1
        listing = cluster.list(POD, page_size=2)
        assert len(list(listing)) == len(recorded_pods())
        assert not listing.consistent and listing.resource_version is None
        fake_api.gone_next_continue = 1
        with pytest.raises(Gone, match="The provided continue parameter is too old"):
            list(cluster.list(POD, page_size=2, allow_inconsistent=False))


def test_unauthorized_is_one_line(fake_api):
    fake_api.write_kubeconfig(token="wrong")
    with connect(str(fake_api.kubeconfig)) as cluster, pytest.raises(ClusterError) as caught:
        list(cluster.list(POD))
    assert str(caught.value) == (f"the Kubernetes API at {fake_api.server} did not accept the credentials from "
                                 f"{fake_api.kubeconfig} (401 Unauthorized)")


def test_untrusted_certificate_is_a_tls_error(fake_api):
    with connect(str(fake_api.kubeconfig), context="untrusted") as cluster, pytest.raises(ClusterError) as caught:
        list(cluster.list(POD))
    assert str(caught.value).startswith(f"TLS with the Kubernetes API at {fake_api.server} failed: ")
    assert "certificate verify failed" in str(caught.value) and "\n" not in str(caught.value)


def test_unreachable_is_one_line(fake_api):
    fake_api.stop()
    with connect(str(fake_api.kubeconfig)) as cluster, pytest.raises(ClusterError) as caught:
        list(cluster.list(POD))
    assert str(caught.value) == f"cannot reach the Kubernetes API at {fake_api.server}: connection refused"


def test_bad_kubeconfig_names_the_file(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(ClusterError, match=f"^{missing}: no kubeconfig file"):
        connect(str(missing))
    bad = tmp_path / "bad"
    bad.write_text("apiVersion: v1\nkind: Config\ncontexts: []\n")
    with pytest.raises(ClusterError) as caught:
        connect(str(bad))
    assert str(caught.value).startswith(f"{bad}: ") and "\n" not in str(caught.value)


def _watch(cluster, rv, out, timeout=5):
    try:
        for event in cluster.watch(POD, rv, timeout_seconds=timeout):
            out.append(event)
    except ClusterError as error:
        out.append(error)


def test_watch_streams_events_and_bookmarks(fake_api):
    with connect(str(fake_api.kubeconfig)) as cluster:
        listing = cluster.list(POD)
        list(listing)
        events: list = []
        thread = threading.Thread(target=_watch, args=(cluster, listing.resource_version, events, 3))
        thread.start()
        fake_api.wait_for_watch()
        fake_api.put(POD, pod("new"))
        fake_api.bookmark(POD)
        fake_api.delete(POD, "default", "new")
        thread.join(20)
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK", "DELETED"]
    assert events[1]["object"] == {"kind": "Pod", "apiVersion": "v1",
                                   "metadata": {"resourceVersion": events[0]["object"]["metadata"]["resourceVersion"]},
                                   "spec": {"containers": None}, "status": {}}


def test_watch_from_a_compacted_version_is_gone(fake_api):
    fake_api.compact()
    with connect(str(fake_api.kubeconfig)) as cluster, pytest.raises(Gone, match="too old resource version"):
        list(cluster.watch(POD, "1"))


def test_watch_dropped_mid_stream_is_a_cluster_error(fake_api):
    fake_api.drop_watch_after = 1
    with connect(str(fake_api.kubeconfig)) as cluster:
        events: list = []
        thread = threading.Thread(target=_watch, args=(cluster, str(fake_api.rv), events, 10))
        thread.start()
        fake_api.wait_for_watch()
        fake_api.put(POD, pod("a"))
        fake_api.put(POD, pod("b"))
        thread.join(20)
    assert events[0]["type"] == "ADDED" and isinstance(events[1], ClusterError)
    assert "broke off" in str(events[1])


def test_inside_a_pod_the_service_account_is_used(fake_api, api_certs, tmp_path, monkeypatch):
    """The webhook's Deployment has no kubeconfig: the pod's token, CA and KUBERNETES_SERVICE_* are it.

    The kubernetes client reads the token and CA from fixed paths under /var/run/secrets; the test points
    those two names at files of its own, everything else (env, TLS verification, bearer token) is real."""
    from kubernetes.config import incluster_config

    token = tmp_path / "token"
    token.write_text(fakeapi.TOKEN)
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(api_certs / "ca.crt"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(fake_api.port))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    with connect() as cluster:
        assert cluster.source == "in-cluster service account"
        assert cluster.server == f"https://127.0.0.1:{fake_api.port}"
        assert list(cluster.list(KINDS["Pod"], page_size=500))  # authorised by the pod's token


def test_inside_a_pod_a_kubeconfig_given_still_wins(fake_api, monkeypatch):
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    with connect(str(fake_api.kubeconfig)) as cluster:
        assert cluster.source == str(fake_api.kubeconfig)


def test_a_kind_served_only_at_an_older_version_is_read_there_and_watched_there(fake_api):
    # CRDs of Gateway API v1.4: TLSRoute has no v1 yet, only v1alpha3 and v1alpha2.
    tls = KINDS["TLSRoute"]
    fake_api.served.add(tls)
    fake_api.served_at[tls] = "v1alpha2"
    fake_api.put(tls, {"metadata": {"name": "db", "namespace": "data"},
                       "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "db"}]}]}})
    with connect(str(fake_api.kubeconfig)) as cluster:
        listing = cluster.list(tls)
        [item] = list(listing)
        assert not listing.absent and item["apiVersion"] == "gateway.networking.k8s.io/v1alpha2"
        tried = [path for path, _ in fake_api.requests]
        assert tried == [f"/apis/gateway.networking.k8s.io/{v}/tlsroutes" for v in ("v1", "v1alpha3", "v1alpha2")]
        assert cluster.version(tls) == "v1alpha2"
        fake_api.requests.clear()
        list(cluster.list(tls))  # the version found is tried first next time
        assert [path for path, _ in fake_api.requests] == ["/apis/gateway.networking.k8s.io/v1alpha2/tlsroutes"]
        events: list = []
        thread = threading.Thread(target=_watch_kind, args=(cluster, tls, listing.resource_version, events, 1))
        thread.start()
        fake_api.wait_for_watch()
        fake_api.put(tls, {"metadata": {"name": "db2", "namespace": "data"}, "spec": {}})
        thread.join(20)
    assert [e["object"]["metadata"]["name"] for e in events] == ["db2"]


def test_a_kind_served_at_no_version_is_absent_and_tried_from_the_newest_again(fake_api):
    grant = KINDS["ReferenceGrant"]
    with connect(str(fake_api.kubeconfig)) as cluster:
        listing = cluster.list(grant)
        assert list(listing) == [] and listing.absent and grant in cluster.absent
        assert [p.rsplit("/", 2)[1] for p, _ in fake_api.requests] == ["v1", "v1beta1"]
        # The cluster is upgraded to v1.5 CRDs: v1 is found again.
        fake_api.served.add(grant)
        fake_api.put(grant, {"metadata": {"name": "g", "namespace": "shop"}, "spec": {}})
        [item] = list(cluster.list(grant))
        assert item["apiVersion"] == "gateway.networking.k8s.io/v1"


def _watch_kind(cluster, kind, version, events, count):
    for event in cluster.watch(kind, version, timeout_seconds=10):
        events.append(event)
        if len(events) >= count:
            return
