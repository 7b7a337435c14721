"""The watch cache's mechanics against the fake apiserver: list, watch, resume, re-list, outages, RBAC.

The facts here are a stand-in (one per object, keyed by its `app` label); test_webhook_cluster.py runs
the real rules' facts through the webhook."""

from __future__ import annotations

from collections import namedtuple

import pytest
from fakeapi import recorded_pods
from waiting import wait_until

from kexlint.cluster import KINDS, connect
from kexlint.cluster.cache import WatchCache

POD, SVC, DS = KINDS["Pod"], KINDS["Service"], KINDS["DaemonSet"]
Fact = namedtuple("Fact", "key value")


def app_fact(obj):
    app = (obj.get("metadata", {}).get("labels") or {}).get("app")
    return [Fact(("app", app), obj["metadata"]["name"])] if app else []


def pod(name, app):
    return {"metadata": {"name": name, "namespace": "default", "labels": {"app": app}},
            "spec": {"containers": [{"name": "c"}]}}



def names(cache, app):
    return sorted(f.value for f in cache.groups([("app", app)]).get(("app", app), []))


@pytest.fixture
def make_cache(fake_api):
    caches = []

    def make(kinds=(POD, SVC, DS), **options):
        options = {"backoff": (0.05, 0.2), "watch_seconds": (2, 3), "page_size": 2, **options}
        cache = WatchCache(lambda: connect(str(fake_api.kubeconfig)), kinds, app_fact, **options)
        caches.append(cache)
        return cache.start()

    yield make
    for cache in caches:
        cache.stop()


def test_lists_page_by_page_then_ready(fake_api, make_cache):
    fake_api.put(POD, pod("extra", "web"))
    cache = make_cache()
    assert cache.wait_ready(20)
    assert not cache.stale
    web = sorted(p["metadata"]["name"] for p in recorded_pods() if p["metadata"].get("labels", {}).get("app") == "web")
    assert names(cache, "web") == sorted([*web, "extra"])
    pod_lists = [q for path, q in fake_api.requests if path == "/api/v1/pods" and "watch" not in q]
    assert len(pod_lists) == 3 and "continue" in pod_lists[1]  # 5 pods, pages of 2
    assert cache.stats().kinds["Pod"].lists == 1


def test_watch_events_and_bookmarks_update_the_facts(fake_api, make_cache):
    cache = make_cache()
    assert cache.wait_ready(20)
    fake_api.wait_for_watch(3)
    fake_api.put(POD, pod("w1", "watched"))
    wait_until(lambda: names(cache, "watched") == ["w1"], what="ADDED")
    fake_api.put(POD, pod("w1", "renamed"))
    wait_until(lambda: names(cache, "watched") == [] and names(cache, "renamed") == ["w1"], what="MODIFIED")
    fake_api.delete(POD, "default", "w1")
    wait_until(lambda: names(cache, "renamed") == [], what="DELETED")
    fake_api.put(SVC, {"metadata": {"name": "other", "namespace": "x"}, "spec": {}})
    fake_api.bookmark(POD)
    # The BOOKMARK moves the Pods' resourceVersion past the Service change without any Pod event.
    wait_until(lambda: cache.stats().kinds["Pod"].resource_version == str(fake_api.rv), what="bookmark")


def test_watch_dropped_mid_stream_resumes_without_a_relist(fake_api, make_cache):
    cache = make_cache(kinds=(POD,))
    assert cache.wait_ready(20)
    fake_api.wait_for_watch()
    fake_api.drop_watch_after = 1
    fake_api.put(POD, pod("d1", "drop"))
    fake_api.put(POD, pod("d2", "drop"))  # sent on the resumed watch, after the first stream broke
    wait_until(lambda: names(cache, "drop") == ["d1", "d2"], what="both pods")
    status = cache.stats().kinds["Pod"]
    assert status.lists == 1 and status.watches >= 2
    resumed = [q for path, q in fake_api.requests if "watch" in q][-1]
    assert int(resumed["resourceVersion"]) >= fake_api.rv - 1
    assert not cache.stale


def test_gone_watch_lists_again(fake_api, make_cache):
    fake_api.gone_next_watch = 1
    cache = make_cache(kinds=(POD,))
    assert cache.wait_ready(20)
    wait_until(lambda: cache.stats().kinds["Pod"].lists == 2, what="the re-list after 410")
    fake_api.wait_for_watch()
    fake_api.put(POD, pod("after", "gone"))
    wait_until(lambda: names(cache, "gone") == ["after"], what="events after the re-list")


def test_gone_continue_restarts_the_list(fake_api, make_cache):
    fake_api.gone_next_continue = 1
    cache = make_cache(kinds=(POD,))
    assert cache.wait_ready(20)
    assert cache.stats().kinds["Pod"].lists == 1  # the list that completed
    lists = [q for path, q in fake_api.requests if "watch" not in q]
    assert ["continue" in q for q in lists] == [False, True, False, True]  # 4 pods, pages of 2


def test_unreachable_api_is_stale_then_recovers_with_a_relist(fake_api, make_cache, caplog):
    cache = make_cache(kinds=(POD,))
    assert cache.wait_ready(20)
    fake_api.wait_for_watch()
    caplog.set_level("INFO", logger="kexlint.cluster")
    fake_api.stop()
    wait_until(lambda: cache.stale, what="stale")
    assert cache.stale.startswith(f"cannot reach the Kubernetes API at {fake_api.server}")
    stale_lines = [r.getMessage() for r in caplog.records if "stale" in r.getMessage()]
    assert stale_lines == [f"cluster state is stale: {cache.stale}; reviews check objects alone until it is back"]
    # While it is away: a Pod goes and history is compacted, so the watch cannot resume.
    fake_api.put(POD, pod("while-away", "away"))
    fake_api.compact()
    fake_api.start()
    wait_until(lambda: not cache.stale and names(cache, "away") == ["while-away"], what="recovery")
    assert cache.stats().kinds["Pod"].lists == 2
    assert "cluster state is current again" in [r.getMessage() for r in caplog.records]


def test_never_reached_is_not_ready(fake_api, make_cache):
    fake_api.stop()
    cache = make_cache(kinds=(POD,))
    assert not cache.wait_ready(0.5)
    assert cache.stale == "the first list of the cluster is not complete"


def test_forbidden_kind_is_skipped_the_rest_cached(fake_api, make_cache, caplog):
    fake_api.forbidden.add("services")
    with caplog.at_level("WARNING", logger="kexlint.cluster"):
        cache = make_cache()
        assert cache.wait_ready(20)
    assert not cache.stale
    kinds = cache.stats().kinds
    assert kinds["Service"].forbidden.startswith("forbidden to read services")
    assert kinds["Pod"].objects > 0
    assert any("conflicts with existing services are not checked" in r.getMessage() for r in caplog.records)


def test_absent_kind_counts_as_listed(fake_api, make_cache):
    cache = make_cache(kinds=(POD, KINDS["Gateway"]))
    assert cache.wait_ready(20)
    assert cache.stats().kinds["Gateway"].absent
