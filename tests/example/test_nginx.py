"""The example to copy: an nginx pod on a throwaway cluster, fetched three ways.

Run it with `python -m pytest tests/example`. Every test marked `k8s` gets the
session's cluster; `k8s_namespace` is a fresh namespace per test, `k8s_client`
an admin `kubernetes` ApiClient, `k8s_cluster.kubectl(...)` runs kubectl.
Pods run on the host's Docker engine, so an image built there is usable at once.
"""

import io
import json
import urllib.request

import pytest
from kubernetes import client
from kubernetes.stream import stream

from pytest_single_k8s.common.waiting import wait_for

WELCOME = "Welcome to nginx!"


def pod(name, image, command=None, labels=None, pull_policy="IfNotPresent"):
    container = client.V1Container(name=name, image=image, command=command, image_pull_policy=pull_policy)
    spec = client.V1PodSpec(containers=[container], restart_policy="Never" if command else "Always")
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name, labels=labels), spec=spec)


def wait_for_phase(core, namespace, name, phases, timeout=60):
    def phase():
        current = core.read_namespaced_pod(name, namespace).status.phase
        assert current in phases, f"pod {name} is {current}"
        return current

    return wait_for(phase, f"pod {namespace}/{name} to be {' or '.join(phases)}", timeout)


def run_to_completion(core, namespace, name, image, command, pull_policy="IfNotPresent"):
    """Run a one-shot pod and return its log."""
    core.create_namespaced_pod(namespace, pod(name, image, command, pull_policy=pull_policy))
    assert wait_for_phase(core, namespace, name, ("Succeeded", "Failed")) == "Succeeded", core.read_namespaced_pod_log(
        name, namespace
    )
    return core.read_namespaced_pod_log(name, namespace)


@pytest.fixture
def nginx(k8s_client, k8s_namespace, k8s_images):
    """An nginx pod, Running, behind a NodePort Service; yields (pod name, service)."""
    core = client.CoreV1Api(k8s_client)
    core.create_namespaced_pod(k8s_namespace, pod("nginx", k8s_images.ref("nginx"), labels={"app": "nginx"}))
    service = client.V1Service(
        metadata=client.V1ObjectMeta(name="nginx"),
        spec=client.V1ServiceSpec(
            type="NodePort", selector={"app": "nginx"}, ports=[client.V1ServicePort(port=80, target_port=80)]
        ),
    )
    service = core.create_namespaced_service(k8s_namespace, service)
    wait_for_phase(core, k8s_namespace, "nginx", ("Running",))
    return "nginx", service


def through_pod_proxy(core, namespace):
    return wait_for(lambda: core.connect_get_namespaced_pod_proxy("nginx", namespace), "nginx via the pod proxy", 30)


@pytest.mark.k8s
def test_nginx_through_the_apiserver_pod_proxy(k8s_client, k8s_namespace, nginx):
    assert WELCOME in through_pod_proxy(client.CoreV1Api(k8s_client), k8s_namespace)


@pytest.mark.k8s
def test_nginx_through_a_cluster_ip_service_from_inside(k8s_client, k8s_namespace, k8s_images, nginx):
    core = client.CoreV1Api(k8s_client)
    _, service = nginx
    page = run_to_completion(
        core,
        k8s_namespace,
        "fetch",
        k8s_images.ref("debian"),
        # kube-proxy programs a new Service within about a second: retry until then
        [
            "curl",
            "-sS",
            "--connect-timeout",
            "2",
            "--retry",
            "20",
            "--retry-all-errors",
            "--retry-delay",
            "1",
            f"http://{service.spec.cluster_ip}/",
        ],
    )
    assert WELCOME in page


@pytest.mark.k8s
def test_nginx_through_a_node_port_from_this_process(k8s_cluster, nginx):
    _, service = nginx
    url = f"http://{k8s_cluster.node_address}:{service.spec.ports[0].node_port}/"
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # this host's address: never via HTTP_PROXY

    def fetch():
        with direct.open(url, timeout=2) as response:
            return response.read().decode()

    assert WELCOME in wait_for(fetch, f"nginx at {url}", 30)


@pytest.mark.k8s
def test_a_pod_token_authenticates_and_reaches_the_apiserver_service(k8s_client, k8s_namespace, k8s_images):
    core = client.CoreV1Api(k8s_client)
    token = run_to_completion(
        core,
        k8s_namespace,
        "token",
        k8s_images.ref("debian"),
        ["cat", "/var/run/secrets/kubernetes.io/serviceaccount/token"],
    )
    review = client.AuthenticationV1Api(k8s_client).create_token_review(
        client.V1TokenReview(spec=client.V1TokenReviewSpec(token=token.strip()))
    )
    assert review.status is not None
    assert review.status.authenticated
    assert review.status.user is not None
    assert review.status.user.username == f"system:serviceaccount:{k8s_namespace}:default"

    # The same token, used from a pod through the `kubernetes` Service, with TLS verified.
    # A fixed script; the secrets directory comes in as its argument $1.
    whoami_script = (
        'curl -sS --cacert "$1/ca.crt" -H "Authorization: Bearer $(cat "$1/token")" '
        "-X POST -H 'Content-Type: application/json' -d '{}' "
        '--resolve "kubernetes.default.svc:443:$KUBERNETES_SERVICE_HOST" '
        "https://kubernetes.default.svc/apis/authentication.k8s.io/v1/selfsubjectreviews"
    )
    whoami = run_to_completion(
        core,
        k8s_namespace,
        "whoami",
        k8s_images.ref("debian"),
        ["sh", "-c", whoami_script, "sh", "/var/run/secrets/kubernetes.io/serviceaccount"],
    )
    assert json.loads(whoami)["status"]["userInfo"]["username"] == f"system:serviceaccount:{k8s_namespace}:default"


ACCESS_LOGGED = '"GET / HTTP/1.1" 200'  # nginx's access log line for the page fetched


@pytest.mark.k8s
def test_kubectl_logs_and_exec_through_the_kubectl_container(k8s_cluster, k8s_client, k8s_namespace, nginx):
    assert k8s_cluster.kubectl("exec", "-n", k8s_namespace, "nginx", "--", "cat", "/etc/hostname").strip() == "nginx"
    through_pod_proxy(client.CoreV1Api(k8s_client), k8s_namespace)
    assert ACCESS_LOGGED in k8s_cluster.kubectl("logs", "-n", k8s_namespace, "nginx")


@pytest.mark.k8s
def test_logs_and_exec_through_the_python_client(k8s_client, k8s_namespace, nginx):
    core = client.CoreV1Api(k8s_client)
    output = stream(
        core.connect_get_namespaced_pod_exec,
        "nginx",
        k8s_namespace,
        command=["cat", "/etc/hostname"],
        stderr=True,
        stdout=True,
        stdin=False,
        tty=False,
    )
    assert output.strip() == "nginx"
    through_pod_proxy(core, k8s_namespace)
    assert ACCESS_LOGGED in core.read_namespaced_pod_log("nginx", k8s_namespace)


@pytest.mark.k8s
def test_a_pod_runs_an_image_built_on_the_host_with_no_load_step(k8s_client, k8s_namespace, k8s_images):
    tag = f"local/pytest-single-k8s-example:{k8s_namespace}"
    dockerfile = f"FROM {k8s_images.ref('debian')}\nRUN echo built on this host > /built\n".encode()
    k8s_images.client.images.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True)
    try:
        core = client.CoreV1Api(k8s_client)
        log = run_to_completion(core, k8s_namespace, "local", tag, ["cat", "/built"], pull_policy="Never")
        assert log.strip() == "built on this host"
    finally:
        k8s_images.client.images.remove(tag, force=True)
