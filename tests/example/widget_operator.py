"""A small kopf operator, the one tests/example/test_operator.py runs: every Widget gets a
ConfigMap holding its size (owned by the Widget, so it goes with it), and the Widget's status
names the ConfigMap. It logs in with the kubeconfig that $KUBECONFIG names when it starts (the
test sets it): the kubernetes client reads $KUBECONFIG only once, when it is imported."""

import os

import kopf
import kubernetes


@kopf.on.login()
def login(**kwargs):
    return kopf.login_with_kubeconfig(**kwargs)


@kopf.on.create("example.pytest-single-k8s.io", "v1", "widgets")
def make_config_map(spec, name, namespace, body, **_):
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{name}-config"},
        "data": {"size": str(spec.get("size", 0))},
    }
    kopf.adopt(config_map, owner=body)
    with kubernetes.config.new_client_from_config(os.environ["KUBECONFIG"]) as api:
        kubernetes.client.CoreV1Api(api).create_namespaced_config_map(namespace, config_map)  # type: ignore[arg-type]  # a dict is a body too
    return {"configMap": f"{name}-config"}  # kopf writes it to status.make_config_map
