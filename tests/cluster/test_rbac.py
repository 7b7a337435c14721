"""The manifests grant the watch cache exactly list/watch on the kinds it reads, and nothing by default."""

from __future__ import annotations

import yaml

from kexlint.cli import main
from kexlint.cluster.live import watched_kinds
from kexlint.config import load_config
from kexlint.engine import Engine
from kexlint.registry import builtin_rules, rules_by_id


def rendered(capsys, *args):
    assert main(["webhook", "manifests", "--image", "registry.example.com/kexlint:test", *args]) == 0
    return list(yaml.safe_load_all(capsys.readouterr().out))


def test_default_manifests_have_no_api_access(capsys):
    docs = rendered(capsys)
    assert not [d for d in docs if d["kind"] in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")]
    pod = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert "--cluster-state" not in pod["containers"][0]["args"]


def test_cluster_state_grants_exactly_list_and_watch(capsys):
    docs = rendered(capsys, "--cluster-state", "watch")
    role = next(d for d in docs if d["kind"] == "ClusterRole")
    binding = next(d for d in docs if d["kind"] == "ClusterRoleBinding")
    assert all(rule["verbs"] == ["list", "watch"] for rule in role["rules"])
    assert all(set(rule) == {"apiGroups", "resources", "verbs"} for rule in role["rules"])  # no resourceNames, no *
    granted = {(group, resource) for rule in role["rules"] for group in rule["apiGroups"]
               for resource in rule["resources"]}
    assert ("", "secrets") not in granted and not any("*" in g or "*" in r for g, r in granted)
    # Whatever the default rules make the cache watch is granted.
    engine = Engine(builtin_rules(), load_config(None, set(rules_by_id())))
    assert {(k.group, k.plural) for k in watched_kinds(engine)} <= granted
    # The route rules read TCP and UDP routes from the cluster too (at v1, or v1alpha2 before Gateway API v1.6).
    gateway = "gateway.networking.k8s.io"
    assert {(gateway, "tcproutes"), (gateway, "udproutes"), (gateway, "tlsroutes")} <= {
        (k.group, k.plural) for k in watched_kinds(engine)}
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kexlint-webhook", "namespace": "kexlint"}]
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "kexlint-webhook" and pod["automountServiceAccountToken"] is True
    assert pod["containers"][0]["args"][-2:] == ["--cluster-state", "watch"]
    assert pod["containers"][0]["resources"]["limits"]["memory"] == "768Mi"  # two caches, one per worker
