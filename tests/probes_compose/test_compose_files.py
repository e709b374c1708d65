"""Which compose files Compose reads, and the project name it derives (static, real files)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from migdoctor.probes import ProbeFinding
from migdoctor.probes.compose_config import (
    container_name,
    derive_project_name,
    find_compose_files,
    load_config,
    normalize_project_name,
)

SERVICE = "services:\n  web:\n    image: app\n"


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        pytest.param(["compose.yaml"], ["compose.yaml"], id="compose.yaml"),
        pytest.param(["compose.yml"], ["compose.yml"], id="compose.yml"),
        pytest.param(["docker-compose.yml"], ["docker-compose.yml"], id="docker-compose.yml"),
        pytest.param(["docker-compose.yaml"], ["docker-compose.yaml"], id="docker-compose.yaml"),
        pytest.param(["docker-compose.yml", "compose.yaml"], ["compose.yaml"],
                     id="compose.yaml-wins-over-docker-compose.yml"),
        pytest.param(["compose.yml", "compose.yaml"], ["compose.yaml"], id="yaml-wins-over-yml"),
        pytest.param(["compose.yaml", "compose.override.yaml"],
                     ["compose.yaml", "compose.override.yaml"], id="with-override"),
        pytest.param(["docker-compose.yml", "docker-compose.override.yml"],
                     ["docker-compose.yml", "docker-compose.override.yml"], id="v1-names-override"),
        pytest.param(["docker-compose.yml", "docker-compose.override.yml", "compose.override.yml"],
                     ["docker-compose.yml", "compose.override.yml"], id="first-override-by-v2-order"),
        pytest.param(["compose.override.yaml"], [], id="override-alone-is-no-compose-file"),
    ],
)
def test_default_files(tmp_path: Path, present: list[str], expected: list[str]) -> None:
    _tree(tmp_path, dict.fromkeys(present, SERVICE))
    files, findings = find_compose_files(tmp_path, environ={}, search_parents=False)
    assert [f.name for f in files] == expected
    assert [f.label for f in findings] == ([] if expected else ["compose-file-missing"])


def test_no_compose_file_is_a_finding(tmp_path: Path) -> None:
    files, findings = find_compose_files(tmp_path, environ={}, search_parents=False)
    assert files == ()
    assert findings == (ProbeFinding(
        "compose-file-missing", "compose-file-missing",
        f"no compose file in {tmp_path} or its parents (looked for compose.yaml, compose.yml, "
        "docker-compose.yml, docker-compose.yaml)",
        "run from the project folder, or pass the file with -f / COMPOSE_FILE",
        path=str(tmp_path),
    ),)


def test_a_parent_folder_is_searched_like_compose_does(tmp_path: Path) -> None:
    _tree(tmp_path, {"compose.yaml": SERVICE, "src/app/.keep": ""})
    files, findings = find_compose_files(tmp_path / "src" / "app", environ={})
    assert (files, findings) == ((tmp_path / "compose.yaml",), ())
    assert load_config(tmp_path / "src" / "app", environ={}).root == tmp_path


@pytest.mark.parametrize(
    ("environ", "dotenv", "expected"),
    [
        pytest.param({"COMPOSE_FILE": f"a.yaml{os.pathsep}b.yaml"}, "", ["a.yaml", "b.yaml"],
                     id="shell-path-separator-list"),
        pytest.param({"COMPOSE_FILE": "b.yaml,a.yaml", "COMPOSE_PATH_SEPARATOR": ","}, "",
                     ["b.yaml", "a.yaml"], id="custom-separator"),
        pytest.param({}, "COMPOSE_FILE=b.yaml\n", ["b.yaml"], id="from-dot-env"),
        pytest.param({"COMPOSE_FILE": "a.yaml"}, "COMPOSE_FILE=b.yaml\n", ["a.yaml"],
                     id="shell-wins-over-dot-env"),
    ],
)
def test_compose_file_variable(
    tmp_path: Path, environ: dict[str, str], dotenv: str, expected: list[str]
) -> None:
    _tree(tmp_path, {"a.yaml": SERVICE, "b.yaml": SERVICE, "compose.yaml": SERVICE, ".env": dotenv})
    files, findings = find_compose_files(tmp_path, environ=environ)
    assert [f.name for f in files] == expected
    assert findings == ()


def test_explicit_files_win_and_a_missing_one_is_a_finding(tmp_path: Path) -> None:
    _tree(tmp_path, {"compose.yaml": SERVICE, "ci.yaml": SERVICE})
    files, findings = find_compose_files(
        tmp_path, ["ci.yaml", "gone.yaml"], {"COMPOSE_FILE": "compose.yaml"}
    )
    assert files == (tmp_path / "ci.yaml",)
    assert [(f.kind, f.message, f.path) for f in findings] == [(
        "compose-file-missing",
        f"compose file {tmp_path / 'gone.yaml'} does not exist",
        str(tmp_path / "gone.yaml"),
    )]


@pytest.mark.parametrize(
    ("folder", "given", "environ", "name_key", "v2", "v1"),
    [
        pytest.param("myproj", None, {}, None, "myproj", "myproj", id="folder"),
        pytest.param("My Project.v2", None, {}, None, "myprojectv2", "myprojectv2",
                     id="folder-normalized"),
        pytest.param("_lab-1", None, {}, None, "lab-1", "_lab-1", id="leading-underscore"),
        pytest.param("myproj", None, {}, "Shop_API", "shop_api", "myproj", id="name-key-v2-only"),
        pytest.param("myproj", None, {"COMPOSE_PROJECT_NAME": "Env1"}, "shop", "env1", "env1",
                     id="COMPOSE_PROJECT_NAME-wins-over-name"),
        pytest.param("myproj", "cli", {"COMPOSE_PROJECT_NAME": "env1"}, "shop", "cli", "cli",
                     id="p-option-wins"),
    ],
)
def test_project_name(
    tmp_path: Path, folder: str, given: str | None, environ: dict[str, str],
    name_key: str | None, v2: str, v1: str,
) -> None:
    project_dir = tmp_path / folder
    project_dir.mkdir()
    assert derive_project_name(project_dir, given, environ, name_key) == v2
    assert derive_project_name(project_dir, given, environ, name_key, flavour="v1") == v1


def test_project_name_from_the_files(tmp_path: Path) -> None:
    _tree(tmp_path, {
        "shop/compose.yaml": "name: ${STACK:-Shop}\n" + SERVICE,
        "shop/.env": "STACK=Shop_Dev\n",
    })
    config = load_config(tmp_path / "shop", environ={})
    assert (config.project_name, config.project_name_v1) == ("shop_dev", "shop")
    config = load_config(tmp_path / "shop", environ={"COMPOSE_PROJECT_NAME": "ci"})
    assert (config.project_name, config.project_name_v1) == ("ci", "ci")


@pytest.mark.parametrize(
    ("flavour", "expected"),
    [pytest.param("v2", "lab-web-1", id="v2-dashes"), pytest.param("v1", "lab_web_1", id="v1-underscores")],
)
def test_container_names(flavour: str, expected: str) -> None:
    assert container_name("lab", "web", 1, flavour=flavour) == expected


def test_normalize_project_name() -> None:
    assert normalize_project_name("--Mig Doctor_Lab!") == "migdoctor_lab"


def test_unreadable_file_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    _tree(tmp_path, {"compose.yaml": "services:\n  web: [unclosed\n"})
    config = load_config(tmp_path, environ={})
    assert config.services == {}
    assert [(f.kind, f.label, f.path) for f in config.findings] == [
        ("compose-file-invalid", "compose-file-missing", str(tmp_path / "compose.yaml"))
    ]
    assert config.findings[0].message.startswith(f"{tmp_path / 'compose.yaml'} is not valid YAML: ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("- a\n- b\n", "is not a mapping at its top level", id="top-level-list"),
        pytest.param("services: [web]\n", "`services` must map service names to mappings",
                     id="services-list"),
    ],
)
def test_wrong_shapes_are_findings(tmp_path: Path, text: str, message: str) -> None:
    _tree(tmp_path, {"compose.yaml": text})
    (finding,) = load_config(tmp_path, environ={}).findings
    assert finding.kind == "compose-file-invalid"
    assert message in finding.message
