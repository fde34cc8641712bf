"""Render a kustomization under deploy/k8s to plain manifests: the subset of kustomize we use.

    python deploy/k8s/render.py overlays/prod > quotient-prod.yaml     # or: make k8s OVERLAY=prod
    kubectl apply -f quotient-prod.yaml                                 # same as kubectl apply -k

Neither kustomize nor Helm can be downloaded on the development machines, so this renders the
kustomizations offline for the tests and for `make k8s`. The files themselves are standard
kustomize: `kubectl apply -k deploy/k8s/overlays/prod` (or `kustomize build`) gives the same
resources. Anything outside the subset below is refused with an error rather than ignored, so the
two can never silently disagree.

Supported kustomization.yaml fields, applied in kustomize's order (patches, namespace, labels,
images), after every resource is loaded:

- resources: YAML files inside the kustomization's folder (several documents per file allowed) and
  folders holding a kustomization.yaml (rendered recursively, e.g. ../../base). A resource defined
  twice (same group, kind, namespace and name) is an error.
- patches: each with `path` (a file inside the folder) or inline `patch`, and an optional `target`
  (group, version, kind, name, namespace: regular expressions matched whole, like kustomize;
  labelSelector: `key=value[,key=value]`). A patch is one YAML document, either
  * a strategic-merge patch (a partial resource): without a target it applies to the resource with
    its kind and name; with a target, to every selected resource. Maps merge key by key (a null
    deletes the key). Lists merge element by element on the Kubernetes merge key where the API
    defines one (containers, env, volumes by name, volumeMounts by mountPath, container ports by
    containerPort, Service ports by port, topologySpreadConstraints by topologyKey...); other
    lists are replaced whole. `$patch` directives are not supported.
  * a JSON 6902 patch (a list of operations: add, remove, replace, test), which needs a target.
- namespace: set on every namespaced resource; a Namespace object is renamed to it (as kustomize
  does).
- labels: `- pairs: {...}` added to every resource's metadata.labels (kustomize's default,
  includeSelectors false: selectors and pod templates are written by hand in the manifests).
- images: `name` plus `newName` / `newTag` / `digest`, applied to every `image` of a container
  or init container anywhere in a resource.

Output: the resources in kustomize's legacy order (Namespace, ServiceAccount, ConfigMap, Secret,
Service, Deployment, ... then the others by group/version/kind and name), as a YAML stream.
"""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

Resource = dict[str, Any]

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED_FIELDS = {
    "apiVersion",
    "kind",
    "metadata",
    "resources",
    "patches",
    "namespace",
    "labels",
    "images",
}

# Kinds that live outside any namespace (the namespace transformer leaves them alone; kustomize
# treats every kind it does not know as namespaced, and so does this).
CLUSTER_SCOPED_KINDS = {
    "APIService",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "RuntimeClass",
    "StorageClass",
    "ValidatingWebhookConfiguration",
}

# The patchMergeKey of list fields, from the Kubernetes API types (`ports` depends on where it is:
# see _merge_key). Lists not named here are replaced whole by a strategic-merge patch, as the API
# says for lists without a merge strategy (args, command, tolerations, HPA metrics, ...).
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
}
CONTAINER_LISTS = {"containers", "initContainers", "ephemeralContainers"}

# kustomize's legacy output order (kyaml resid/gvk.go): these kinds first, in this order...
ORDER_FIRST = [
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
]
# ... these last, everything else in between.
ORDER_LAST = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]


class RenderError(Exception):
    """The kustomization is invalid or uses something outside the supported subset."""


# --- loading ---------------------------------------------------------------------------------------


def _kustomization_file(folder: Path) -> Path:
    for name in KUSTOMIZATION_FILES:
        if (folder / name).is_file():
            return folder / name
    raise RenderError(f"{folder}: no kustomization.yaml")


def _inside(folder: Path, relative: str) -> Path:
    """A file named by a kustomization: it must stay inside the kustomization's folder (kustomize's
    default load restrictor; only folders with a kustomization may be reached outside it)."""
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise RenderError(f"{folder}: {relative} is outside the kustomization's folder")
    if not path.is_file():
        raise RenderError(f"{folder}: {relative} does not exist")
    return path


def _load_documents(path: Path) -> list[Resource]:
    documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    for document in documents:
        if not isinstance(document, dict) or not {"apiVersion", "kind"} <= document.keys():
            raise RenderError(f"{path}: every document must be a resource (apiVersion, kind)")
        if not (document.get("metadata") or {}).get("name"):
            raise RenderError(f"{path}: a {document['kind']} without metadata.name")
    return documents


def resource_id(resource: Resource) -> tuple[str, str, str, str]:
    """(group, kind, namespace, name): what makes a resource unique in a build."""
    group = resource["apiVersion"].rpartition("/")[0]
    metadata = resource["metadata"]
    return group, resource["kind"], metadata.get("namespace", ""), metadata["name"]


def render(folder: Path | str) -> list[Resource]:
    """Build the kustomization in `folder`: its resources with its transformations applied."""
    folder = Path(folder)
    kustomization_path = _kustomization_file(folder)
    kustomization = yaml.safe_load(kustomization_path.read_text()) or {}
    unknown = set(kustomization) - SUPPORTED_FIELDS
    if unknown:
        raise RenderError(f"{kustomization_path}: unsupported fields {sorted(unknown)}")

    resources: list[Resource] = []
    for entry in kustomization.get("resources") or []:
        if "://" in entry or entry.startswith("github.com/"):
            raise RenderError(f"{kustomization_path}: remote resource {entry} is not supported")
        target = folder / entry
        if target.is_dir():
            resources.extend(render(target))
        else:
            resources.extend(_load_documents(_inside(folder, entry)))
    _refuse_duplicates(resources, kustomization_path)

    for patch in kustomization.get("patches") or []:
        apply_patch(resources, patch, folder)
    if namespace := kustomization.get("namespace"):
        set_namespace(resources, namespace)
    for label in kustomization.get("labels") or []:
        add_labels(resources, label)
    for image in kustomization.get("images") or []:
        set_image(resources, image)
    _refuse_duplicates(resources, kustomization_path)
    return sort_resources(resources)


def _refuse_duplicates(resources: list[Resource], where: Path) -> None:
    seen: set[tuple[str, str, str, str]] = set()
    for resource in resources:
        rid = resource_id(resource)
        if rid in seen:
            raise RenderError(f"{where}: {rid} is defined more than once")
        seen.add(rid)


# --- patches ---------------------------------------------------------------------------------------


def apply_patch(resources: list[Resource], entry: dict[str, Any], folder: Path) -> None:
    """One entry of `patches`: a strategic-merge or a JSON 6902 patch, with an optional target."""
    unknown = set(entry) - {"path", "patch", "target"}
    if unknown:
        raise RenderError(f"patch option(s) {sorted(unknown)} not supported")
    if ("path" in entry) == ("patch" in entry):
        raise RenderError("a patch needs exactly one of path and patch")
    text = _inside(folder, entry["path"]).read_text() if "path" in entry else entry["patch"]
    documents = [d for d in yaml.safe_load_all(text) if d is not None]
    if len(documents) != 1:
        raise RenderError(f"a patch must be one YAML document, got {len(documents)}")
    patch = documents[0]
    target = entry.get("target")

    if isinstance(patch, list):
        if target is None:
            raise RenderError("a JSON 6902 patch needs a target")
        selected = select(resources, target)
        for resource in selected:
            _replace_content(resource, json6902(resource, patch))
        return
    if not isinstance(patch, dict):
        raise RenderError(f"a patch must be a map or a list of operations: {patch!r}")

    if target is None:
        selected = [
            r
            for r in resources
            if r["kind"] == patch.get("kind")
            and r["metadata"]["name"] == (patch.get("metadata") or {}).get("name")
            and (
                "namespace" not in (patch.get("metadata") or {})
                or r["metadata"].get("namespace") == patch["metadata"]["namespace"]
            )
        ]
        if len(selected) != 1:
            raise RenderError(
                f"strategic-merge patch for {patch.get('kind')}/"
                f"{(patch.get('metadata') or {}).get('name')} matches {len(selected)} resources"
            )
    else:
        selected = select(resources, target)
    for resource in selected:
        # As kustomize does with a target: the patch takes the identity of each resource it hits.
        own = copy.deepcopy(patch)
        own["apiVersion"], own["kind"] = resource["apiVersion"], resource["kind"]
        own.setdefault("metadata", {})["name"] = resource["metadata"]["name"]
        if "namespace" in resource["metadata"]:
            own["metadata"]["namespace"] = resource["metadata"]["namespace"]
        _replace_content(resource, strategic_merge(resource, own))


def _replace_content(resource: Resource, new: Resource) -> None:
    resource.clear()
    resource.update(new)


def select(resources: list[Resource], target: dict[str, Any]) -> list[Resource]:
    """The resources a patch target selects; selecting none is an error (a patch that applies to
    nothing is a mistake, and kustomize's strategic-merge patches without a target agree)."""
    unknown = set(target) - {"group", "version", "kind", "name", "namespace", "labelSelector"}
    if unknown:
        raise RenderError(f"target field(s) {sorted(unknown)} not supported")
    wanted_labels: dict[str, str] = {}
    for term in filter(None, (target.get("labelSelector") or "").split(",")):
        key, sep, value = term.partition("=")
        if not sep or value.startswith("=") or key.endswith("!"):
            raise RenderError(f"labelSelector term {term!r}: only key=value is supported")
        wanted_labels[key.strip()] = value.strip()

    def matches(resource: Resource) -> bool:
        group, _, version = resource["apiVersion"].rpartition("/")
        metadata = resource["metadata"]
        for field, actual in (
            ("group", group),
            ("version", version),
            ("kind", resource["kind"]),
            ("name", metadata["name"]),
            ("namespace", metadata.get("namespace", "")),
        ):
            if field in target and not re.fullmatch(str(target[field]), actual):
                return False
        labels = metadata.get("labels") or {}
        return all(labels.get(k) == v for k, v in wanted_labels.items())

    selected = [r for r in resources if matches(r)]
    if not selected:
        raise RenderError(f"patch target {target} selects no resource")
    return selected


def _merge_key(path: tuple[str, ...], kind: str) -> str | None:
    """The merge key of the list at `path` (map keys from the resource's root, list levels
    skipped), or None when the list is replaced whole."""
    field = path[-1]
    if field == "ports":
        if kind == "Service" and path == ("spec", "ports"):
            return "port"
        if len(path) >= 2 and path[-2] in CONTAINER_LISTS:
            return "containerPort"
        return None
    return MERGE_KEYS.get(field)


def strategic_merge(original: Resource, patch: Resource) -> Resource:
    """`patch` merged into a copy of `original`, with strategic-merge-patch semantics (see the
    module docstring for the subset)."""
    return _merge_map(original, patch, (), original["kind"])


def _merge_map(
    original: dict[str, Any], patch: dict[str, Any], path: tuple[str, ...], kind: str
) -> dict[str, Any]:
    merged = copy.deepcopy(original)
    for key, value in patch.items():
        if isinstance(key, str) and key.startswith("$"):
            raise RenderError(f"strategic-merge directive {key} at {'/'.join(path)} not supported")
        here = (*path, key)
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict):
            current = merged.get(key)
            merged[key] = _merge_map(
                current if isinstance(current, dict) else {}, value, here, kind
            )
        elif isinstance(value, list):
            current = merged.get(key)
            merged[key] = _merge_list(
                current if isinstance(current, list) else [], value, here, kind
            )
        else:
            merged[key] = value
    return merged


def _merge_list(
    original: list[Any], patch: list[Any], path: tuple[str, ...], kind: str
) -> list[Any]:
    key = _merge_key(path, kind)
    if key is None:
        return [_drop_nulls(item) for item in patch]
    merged = copy.deepcopy(original)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise RenderError(f"{'/'.join(path)}: every element of the patch needs its {key}")
        if any(isinstance(k, str) and k.startswith("$") for k in item):
            raise RenderError(f"{'/'.join(path)}: strategic-merge directives not supported")
        for index, existing in enumerate(merged):
            if isinstance(existing, dict) and existing.get(key) == item[key]:
                merged[index] = _merge_map(existing, item, path, kind)
                break
        else:
            merged.append(_merge_map({}, item, path, kind))
    return merged


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise RenderError(f"JSON pointer {path!r} must start with /")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(document: Any, parts: list[str], op: str) -> Any:
    node = document
    for part in parts:
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise RenderError(f"{op}: path /{'/'.join(parts)} does not exist") from None
    return node


def json6902(resource: Resource, operations: list[dict[str, Any]]) -> Resource:
    """A copy of `resource` with RFC 6902 operations applied (add, remove, replace, test)."""
    document = copy.deepcopy(resource)
    for operation in operations:
        op = operation.get("op")
        parts = _pointer(operation.get("path", ""))
        parent = _walk(document, parts[:-1], str(op))
        last = parts[-1]
        if op == "test":
            if _walk(document, parts, op) != operation["value"]:
                raise RenderError(f"test failed at {operation['path']}")
        elif op == "add":
            value = copy.deepcopy(operation["value"])
            if isinstance(parent, list):
                if last == "-":
                    parent.append(value)
                else:
                    if not 0 <= int(last) <= len(parent):
                        raise RenderError(f"add: index {last} out of range")
                    parent.insert(int(last), value)
            else:
                parent[last] = value
        elif op in ("remove", "replace"):
            _walk(document, parts, op)  # must exist
            if op == "remove":
                del parent[int(last) if isinstance(parent, list) else last]
            else:
                parent[int(last) if isinstance(parent, list) else last] = copy.deepcopy(
                    operation["value"]
                )
        else:
            raise RenderError(f"JSON 6902 operation {op!r} not supported")
    return document


# --- namespace, labels, images ------------------------------------------------------------------


def set_namespace(resources: list[Resource], namespace: str) -> None:
    for resource in resources:
        kind = resource["kind"]
        if kind in ("RoleBinding", "ClusterRoleBinding"):
            # kustomize would also rewrite ServiceAccount subjects; not needed, so not supported.
            raise RenderError(f"{kind} with a namespace transformation is not supported")
        if kind == "Namespace":
            resource["metadata"]["name"] = namespace
        elif kind not in CLUSTER_SCOPED_KINDS:
            resource["metadata"]["namespace"] = namespace


def add_labels(resources: list[Resource], label: dict[str, Any]) -> None:
    unknown = set(label) - {"pairs", "includeSelectors", "includeTemplates"}
    if unknown or label.get("includeSelectors") or label.get("includeTemplates"):
        raise RenderError("labels: only `pairs` (metadata.labels) is supported")
    pairs = {str(k): str(v) for k, v in (label.get("pairs") or {}).items()}
    for resource in resources:
        resource["metadata"].setdefault("labels", {}).update(pairs)


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """(name, tag, digest) of an image reference; a registry's port is not a tag."""
    rest, _, digest = image.partition("@")
    name, tag = rest, None
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):
        name, tag = rest[:colon], rest[colon + 1 :]
    return name, tag, digest or None


def set_image(resources: list[Resource], image: dict[str, Any]) -> None:
    unknown = set(image) - {"name", "newName", "newTag", "digest"}
    if unknown:
        raise RenderError(f"images: field(s) {sorted(unknown)} not supported")

    def rewrite(reference: str) -> str:
        name, tag, digest = split_image(reference)
        if name != image["name"]:
            return reference
        name = str(image.get("newName") or name)
        if image.get("digest"):
            return f"{name}@{image['digest']}"
        if image.get("newTag") is not None:
            return f"{name}:{image['newTag']}"
        return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")

    for resource in resources:
        for container in _containers(resource):
            if isinstance(container.get("image"), str):
                container["image"] = rewrite(container["image"])


def _containers(node: Any) -> Iterable[dict[str, Any]]:
    """Every element of a `containers` or `initContainers` list, wherever it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                yield from (c for c in value if isinstance(c, dict))
            else:
                yield from _containers(value)
    elif isinstance(node, list):
        for value in node:
            yield from _containers(value)


# --- output --------------------------------------------------------------------------------------


def sort_resources(resources: list[Resource]) -> list[Resource]:
    def order(kind: str) -> int:
        if kind in ORDER_FIRST:
            return ORDER_FIRST.index(kind) - len(ORDER_FIRST)
        if kind in ORDER_LAST:
            return ORDER_LAST.index(kind) + 1
        return 0

    def key(resource: Resource) -> tuple[int, str, str, str]:
        group, _, version = resource["apiVersion"].rpartition("/")
        gvk = "_".join((group or "~G", version or "~V", resource["kind"]))
        metadata = resource["metadata"]
        return order(resource["kind"]), gvk, metadata.get("namespace", ""), metadata["name"]

    return sorted(resources, key=key)


def to_yaml(resources: list[Resource]) -> str:
    text: str = yaml.safe_dump_all(resources, sort_keys=False, explicit_start=True, width=1000)
    return text


def resolve(argument: str) -> Path:
    """A kustomization folder named on the command line, relative to the current directory or to
    deploy/k8s (so `render.py overlays/prod` works from the repository root)."""
    for candidate in (Path(argument), Path(__file__).resolve().parent / argument):
        if candidate.is_dir():
            return candidate
    raise RenderError(f"{argument}: no such kustomization folder")


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        sys.stdout.write(to_yaml(render(resolve(argv[0]))))
    except RenderError as error:
        print(f"render.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
