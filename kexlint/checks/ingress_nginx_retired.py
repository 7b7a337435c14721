"""The community ingress-nginx controller, retired by SIG Network: its IngressClass and its image."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import CONTAINER_LISTS, Target
from . import Hit, Settings

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms of start-up to import; annotations are strings
    from typing import Any

RETIRED = "the community ingress-nginx controller is retired (no releases or security fixes after March 2026)"


def image_repository(image: str) -> str:
    """`registry.k8s.io/ingress-nginx/controller:v1.12.1@sha256:…` → `registry.k8s.io/ingress-nginx/controller`."""
    name = image.strip().split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def check(target: Target, params: dict[str, Any], settings: Settings) -> Iterator[Hit]:
    obj = target.obj
    if obj.ref.kind == "IngressClass":
        spec = obj.value.get("spec")
        controller = spec.get("controller") if isinstance(spec, dict) else None
        if isinstance(controller, str) and controller.strip() in params.get("controllers", []):
            yield Hit(("spec", "controller"), f"IngressClass for controller {controller.strip()}: {RETIRED}")
        return
    found = obj.pod_spec()
    if found is None:
        return
    path, spec = found
    images = set(params.get("images", []))
    for list_name in CONTAINER_LISTS:
        containers = spec.get(list_name)
        for index, container in enumerate(containers if isinstance(containers, list) else []):
            image = container.get("image") if isinstance(container, dict) else None
            if isinstance(image, str) and image_repository(image) in images:
                yield Hit((*path, list_name, index, "image"), f"image {image_repository(image)}: {RETIRED}")
