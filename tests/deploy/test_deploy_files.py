"""docs/deploy.md and the files under deploy/: the page shows the files as they are, and each
file is valid for the program that reads it (Dagster's own instance schema, Kubernetes'
required fields and cross-references, nginx's block structure, Tidemark's Settings)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config

from connectors.settings import REPO_ROOT, Settings

DEPLOY = REPO_ROOT / "deploy"
DOC = REPO_ROOT / "docs" / "deploy.md"
SHOWN = re.compile(r"<!-- file: (?P<path>\S+) -->\n```[a-z]*\n(?P<body>.*?)```\n", re.DOTALL)
NAMESPACE = "tidemark"


def _shown_files() -> dict[str, str]:
    return {m["path"]: m["body"] for m in SHOWN.finditer(DOC.read_text(encoding="utf-8"))}


def _deploy_files() -> list[str]:
    return sorted(str(p.relative_to(REPO_ROOT)) for p in DEPLOY.rglob("*") if p.is_file())


def _manifests() -> list[dict[str, Any]]:
    documents = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        documents += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return documents


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in _manifests() if d["kind"] == kind}


def test_the_page_shows_every_deploy_file_exactly_as_it_is():
    shown = _shown_files()
    assert sorted(shown) == _deploy_files()
    for path, body in shown.items():
        assert body == (REPO_ROOT / path).read_text(encoding="utf-8"), f"{path} differs"


def test_dagster_yaml_passes_dagsters_instance_schema():
    config, custom_class = dagster_instance_config(str(DEPLOY / "dagster"))
    assert custom_class is None
    assert "postgres" in config["storage"]
    launcher = config["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s", "K8sRunLauncher")
    # What the launcher's config names must exist in the manifests it runs beside.
    assert launcher["config"]["instance_config_map"] in _generated_config_maps()
    assert launcher["config"]["service_account_name"] in _of_kind("ServiceAccount")
    assert launcher["config"]["job_namespace"] == NAMESPACE
    assert set(launcher["config"]["env_config_maps"]) <= _generated_config_maps()


def test_dagster_yaml_refusing_a_wrong_storage_shows_the_check_is_real(tmp_path):
    broken = yaml.safe_load((DEPLOY / "dagster" / "dagster.yaml").read_text(encoding="utf-8"))
    broken["storage"]["postgres"]["postgres_db"]["portt"] = 5432
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(broken), encoding="utf-8")
    with pytest.raises(Exception, match="portt"):
        dagster_instance_config(str(tmp_path))


def test_the_workspace_points_at_the_code_location_service():
    workspace = yaml.safe_load((DEPLOY / "dagster" / "workspace.yaml").read_text(encoding="utf-8"))
    [entry] = workspace["load_from"]
    server = entry["grpc_server"]
    service = _of_kind("Service")[server["host"]]
    assert server["port"] in [p["port"] for p in service["spec"]["ports"]]


def _kustomization() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "kustomization.yaml").read_text(encoding="utf-8"))


def _generated_config_maps() -> set[str]:
    return {generator["name"] for generator in _kustomization()["configMapGenerator"]}


def test_the_kustomization_lists_files_that_exist():
    kustomization = _kustomization()
    assert kustomization["namespace"] == NAMESPACE
    for resource in kustomization["resources"]:
        assert (DEPLOY / resource).is_file(), resource
    assert {str(p.relative_to(DEPLOY)) for p in (DEPLOY / "kubernetes").glob("*.yaml")} == set(
        kustomization["resources"]
    )
    for generator in kustomization["configMapGenerator"]:
        for file in generator.get("files", []):
            assert (DEPLOY / file).is_file(), file
    # `tidemark.env` is the operator's copy of the example, made at deploy time.
    assert [g.get("envs") for g in kustomization["configMapGenerator"]][1] == ["tidemark.env"]
    assert kustomization["generatorOptions"]["disableNameSuffixHash"] is True


def test_every_manifest_has_the_fields_kubernetes_requires():
    for document in _manifests():
        assert document["apiVersion"] and document["kind"], document
        assert document["metadata"]["name"], document
    for name, deployment in _of_kind("Deployment").items():
        spec = deployment["spec"]
        labels = spec["template"]["metadata"]["labels"]
        assert spec["selector"]["matchLabels"].items() <= labels.items(), name
        for container in spec["template"]["spec"]["containers"]:
            assert container["name"] and container["image"], name
            assert container["command"], name
    for name, service in _of_kind("Service").items():
        selected = [
            d
            for d in _of_kind("Deployment").values()
            if service["spec"]["selector"].items()
            <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert selected, f"Service {name} selects no Deployment"
        container_ports = {
            port["containerPort"]
            for c in selected[0]["spec"]["template"]["spec"]["containers"]
            for port in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in container_ports, name


def test_manifests_reference_only_what_exists():
    config_maps = _generated_config_maps()
    accounts = _of_kind("ServiceAccount")
    secrets = {"tidemark-secrets", "dagster-postgres"}  # created from the secret store
    for name, deployment in _of_kind("Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod.get("serviceAccountName", "default") in {*accounts, "default"}, name
        for volume in pod.get("volumes", []):
            assert volume["configMap"]["name"] in config_maps, name
        for container in pod["containers"]:
            mounted = {m["name"] for m in container.get("volumeMounts", [])}
            assert mounted <= {v["name"] for v in pod.get("volumes", [])}, name
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in config_maps, name
                else:
                    assert source["secretRef"]["name"] in secrets, name
    [binding] = _of_kind("RoleBinding").values()
    assert binding["roleRef"]["name"] in _of_kind("Role")
    assert {s["name"] for s in binding["subjects"]} <= set(accounts)
    [role] = _of_kind("Role").values()
    granted = {(r, v) for rule in role["rules"] for r in rule["resources"] for v in rule["verbs"]}
    assert {("jobs", "create"), ("pods", "list"), ("pods/log", "get")} <= granted


ENV_LINE = re.compile(r"(?P<unset>#?)(?P<name>TIDEMARK_[A-Z0-9_]+)=(?P<value>.*)")


def _env_example() -> dict[str, tuple[bool, str]]:
    """Each listed setting: (set?, its value or the note on the unset line)."""
    lines = (DEPLOY / "tidemark.env.example").read_text(encoding="utf-8").splitlines()
    listed: dict[str, tuple[bool, str]] = {}
    for line in lines:
        if match := ENV_LINE.fullmatch(line):
            assert match["name"] not in listed, f"{match['name']} is listed twice"
            listed[match["name"]] = (not match["unset"], match["value"])
        else:
            assert not line or line.startswith("# "), f"not a setting or a comment: {line!r}"
    return listed


def test_the_env_example_lists_every_setting_and_invents_none():
    settings = {f"TIDEMARK_{name.upper()}" for name in Settings.model_fields}
    assert set(_env_example()) == settings


def test_the_env_example_holds_no_secret_values():
    listed = _env_example()
    for name, field in Settings.model_fields.items():
        if "SecretStr" in str(field.annotation):
            is_set, note = listed[f"TIDEMARK_{name.upper()}"]
            assert (is_set, note) == (False, "  (secret: tidemark-secrets)"), name


def test_the_env_example_is_valid_settings(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env of the repository's working directory
    for name, (is_set, value) in _env_example().items():
        if is_set:
            monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.warehouse == "clickhouse"
    assert settings.landing_url == "s3://tidemark-landing/prod"
    assert settings.destinations == {}


def _nginx_blocks(text: str) -> list[tuple[list[str], Any]]:
    """nginx's grammar: directives end with `;`, blocks are `name args { … }`; `#` comments."""
    tokens = re.findall(r'"[^"]*"|[{};]|[^\s{};"]+', re.sub(r"#[^\n]*", "", text))
    position = 0

    def block() -> list[tuple[list[str], Any]]:
        nonlocal position
        items: list[tuple[list[str], Any]] = []
        words: list[str] = []
        while position < len(tokens):
            token = tokens[position]
            position += 1
            if token == ";":
                assert words, "an empty directive"
                items.append((words, None))
                words = []
            elif token == "{":
                items.append((words, block()))
                words = []
            elif token == "}":
                assert not words, f"a directive without ';' before '}}': {words}"
                return items
            else:
                words.append(token)
        assert not words, f"unterminated directive {words}"
        return items

    parsed = block()
    assert position == len(tokens), "unbalanced braces"
    return parsed


def test_the_proxy_config_is_well_formed_and_points_at_the_services():
    parsed = _nginx_blocks((DEPLOY / "nginx" / "tidemark.conf").read_text(encoding="utf-8"))
    upstreams = {words[1]: body for words, body in parsed if words[0] == "upstream"}
    services = _of_kind("Service")
    for body in upstreams.values():
        [(host, port)] = [w[1].split(":") for w, _ in body if w[0] == "server"]
        name, namespace = host.split(".")[:2]
        assert namespace == NAMESPACE and name in services
        assert int(port) in [p["port"] for p in services[name]["spec"]["ports"]]
    servers = [body for words, body in parsed if words == ["server"]]
    tls = next(s for s in servers if ["listen", "443", "ssl"] in [w for w, _ in s])
    locations = {words[1]: body for words, body in tls if words[0] == "location"}
    passes = {
        path: [w[1] for w, _ in body if w[0] == "proxy_pass"] for path, body in locations.items()
    }
    assert passes == {"/": ["http://tidemark_api"], "/dagster/": ["http://dagster_webserver"]}
    # The webserver serves under the prefix the proxy routes to it.
    webserver = _of_kind("Deployment")["dagster-webserver"]["spec"]["template"]["spec"]
    command = webserver["containers"][0]["command"]
    assert command[command.index("--path-prefix") + 1] == "/dagster"
    [body_size] = [w[1] for w, _ in tls if w[0] == "client_max_body_size"]
    assert body_size == "2g"  # api/routes/imports.py: MAX_UPLOAD_BYTES, 2 GiB
