"""AdmissionReviews shaped exactly as the kube-apiserver sends them, and sample objects.

Field by field from the API reference (admission.k8s.io/v1 AdmissionRequest): uid, kind/resource
(and requestKind/requestResource, equal unless matchPolicy Equivalent converted the object), subResource
only when set, name (empty on CREATE with generateName), namespace, operation, userInfo, object
(null on DELETE), oldObject (UPDATE and DELETE only), dryRun, options (the operation's *Options).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

# kind → (group, version, resource) as the apiserver names them.
RESOURCES: dict[str, tuple[str, str, str]] = {
    "Pod": ("", "v1", "pods"),
    "Service": ("", "v1", "services"),
    "ReplicationController": ("", "v1", "replicationcontrollers"),
    "PodTemplate": ("", "v1", "podtemplates"),
    "ConfigMap": ("", "v1", "configmaps"),
    "Deployment": ("apps", "v1", "deployments"),
    "ReplicaSet": ("apps", "v1", "replicasets"),
    "StatefulSet": ("apps", "v1", "statefulsets"),
    "DaemonSet": ("apps", "v1", "daemonsets"),
    "Job": ("batch", "v1", "jobs"),
    "CronJob": ("batch", "v1", "cronjobs"),
    "Ingress": ("networking.k8s.io", "v1", "ingresses"),
    "IngressClass": ("networking.k8s.io", "v1", "ingressclasses"),
    "Gateway": ("gateway.networking.k8s.io", "v1", "gateways"),
    "ListenerSet": ("gateway.networking.k8s.io", "v1", "listenersets"),
    "HTTPRoute": ("gateway.networking.k8s.io", "v1", "httproutes"),
    "GRPCRoute": ("gateway.networking.k8s.io", "v1", "grpcroutes"),
    "TLSRoute": ("gateway.networking.k8s.io", "v1", "tlsroutes"),
    "ReferenceGrant": ("gateway.networking.k8s.io", "v1", "referencegrants"),
}
OPTIONS_KIND = {"CREATE": "CreateOptions", "UPDATE": "UpdateOptions", "DELETE": "DeleteOptions"}


def admission_review(operation: str, obj: dict[str, Any] | None, old: dict[str, Any] | None = None, *,
                     api_version: str = "admission.k8s.io/v1", namespace: str | None = None,
                     dry_run: bool = False, sub_resource: str | None = None,
                     kind: str | None = None, uid: str | None = None) -> dict[str, Any]:
    """An AdmissionReview for obj (old on UPDATE/DELETE); namespace defaults to the object's."""
    subject = obj if obj is not None else old
    assert subject is not None
    kind = kind or subject["kind"]
    if kind in RESOURCES:
        group, version, resource = RESOURCES[kind]
    else:  # a kind of its own (custom resource, old API): group and version from its apiVersion
        group, _, version = str(subject.get("apiVersion", "v1")).rpartition("/")
        resource = kind.lower() + "s"
    metadata = subject.get("metadata", {})
    namespace = namespace if namespace is not None else metadata.get("namespace", "default")
    gvk = {"group": group, "version": version, "kind": kind}
    gvr = {"group": group, "version": version, "resource": resource}
    request: dict[str, Any] = {
        "uid": uid or str(uuid.uuid4()),
        "kind": gvk,
        "resource": gvr,
        "requestKind": dict(gvk),
        "requestResource": dict(gvr),
        # On CREATE with generateName the name is not known yet: the apiserver sends "".
        "name": metadata.get("name", ""),
        "namespace": namespace,
        "operation": operation,
        "userInfo": {"username": "kubernetes-admin", "uid": "2d1a3b3c-0000-4000-8000-000000000001",
                     "groups": ["kubeadm:cluster-admins", "system:authenticated"]},
        "object": copy.deepcopy(obj),
        "oldObject": copy.deepcopy(old),
        "dryRun": dry_run,
        "options": ({"apiVersion": "meta.k8s.io/v1", "kind": OPTIONS_KIND[operation]}
                    if operation in OPTIONS_KIND else None),
    }
    if sub_resource:
        request["subResource"] = sub_resource
        request["requestSubResource"] = sub_resource
    return {"apiVersion": api_version, "kind": "AdmissionReview", "request": request}


def pod(name: str | None = "web", namespace: str | None = "default", *, host_network: bool = False,
        host_port: int | None = None, annotations: dict[str, str] | None = None,
        generate_name: str | None = None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if name:
        metadata["name"] = name
    if generate_name:
        metadata["generateName"] = generate_name
    if namespace:
        metadata["namespace"] = namespace
    if annotations:
        metadata["annotations"] = annotations
    if labels:
        metadata["labels"] = labels
    port: dict[str, Any] = {"containerPort": 8080, "protocol": "TCP"}
    if host_port is not None:
        port["hostPort"] = host_port
    spec: dict[str, Any] = {"containers": [{"name": "web", "image": "nginx:1.27", "ports": [port]}]}
    if host_network:
        spec["hostNetwork"] = True
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def deployment(name: str = "web", namespace: str = "default", *, replicas: int = 2,
               host_network: bool = False, host_port: int | None = None) -> dict[str, Any]:
    template = pod(None, None, host_network=host_network, host_port=host_port, labels={"app": name})
    del template["apiVersion"], template["kind"]
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": template}}


def service(name: str = "web", namespace: str = "default", *, type_: str = "ClusterIP",
            node_port: int | None = None, source_ranges: list[str] | None = None,
            external_ips: list[str] | None = None) -> dict[str, Any]:
    port: dict[str, Any] = {"port": 80, "targetPort": 8080, "protocol": "TCP"}
    if node_port is not None:
        port["nodePort"] = node_port
    spec: dict[str, Any] = {"type": type_, "selector": {"app": name}, "ports": [port]}
    if source_ranges is not None:
        spec["loadBalancerSourceRanges"] = source_ranges
    if external_ips is not None:
        spec["externalIPs"] = external_ips
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
            "spec": spec}
