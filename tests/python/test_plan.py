"""host_plan / host_plans / Organization / variables, and the one health report shape."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import subprocess
import typing

import pytest

import metis_deploy as md
from metis_deploy import types

# (Not imported from conftest: with tests/standins in the same pytest run, `conftest` is theirs.)
REPO = pathlib.Path(__file__).resolve().parents[2]
UPSTREAM = REPO / "tests" / "fixtures" / "upstream" / "inventory-v0.5.1.ini"
FIXTURE = REPO / "rust" / "core" / "tests" / "fixtures" / "org.ini"


def keys_of(typed: type) -> list[str]:
    return list(typing.get_type_hints(typed))


def test_plan_has_the_shape_of_its_typed_dicts(example: pathlib.Path) -> None:
    plans = md.host_plans(example)
    assert list(plans) == ["198.51.100.11", "198.51.100.12", "198.51.100.13"]
    for host, plan in plans.items():
        assert plan["host"] == host
        assert list(plan) == keys_of(types.HostPlan)
        assert plan["services"], host
        for svc in plan["services"]:
            assert list(svc) == keys_of(types.ServicePlan)
            for d in svc["directories"]:
                assert list(d) == keys_of(types.Dir) and len(d["mode"]) == 4
            for f in svc["files"]:
                assert list(f) == keys_of(types.File) and len(f["sha256"]) == 64
            for a in svc["artifacts"]:
                assert list(a) == keys_of(types.Artifact)
            for p in svc["ports"]:
                assert list(p) == keys_of(types.Port)
            for c in svc["health_checks"]:
                assert list(c) == keys_of(types.HealthCheckRef)
            if svc["python_env"] is not None:
                assert list(svc["python_env"]) == keys_of(types.PythonEnv)


def test_plan_agrees_with_render_and_the_cli(example: pathlib.Path) -> None:
    org = md.Organization(example)
    for host in org.hosts:
        plan = org.host_plan(host)
        assert plan == md.host_plan(example, host)
        files = md.render(example, host)
        planned = [f for s in plan["services"] for f in s["files"]]
        assert [f["path"] for f in planned] == [f.path for f in files]
        assert [f["mode"] for f in planned] == [f.mode_octal for f in files]
        assert [f["owner"] for f in planned] == [f.owner for f in files]
        for p, f in zip(planned, files):
            assert p["sha256"] == hashlib.sha256(f.content.encode()).hexdigest()
    cli = REPO / "target" / "debug" / "metis-deploy"
    if cli.exists():
        out = subprocess.run(
            [str(cli), "plan", str(example), "--host", "198.51.100.12", "--format", "json"],
            capture_output=True,
            text=True,
            check=True,
            env=os.environ,
        )
        from_cli = json.loads(out.stdout)
        from_binding = org.host_plan("198.51.100.12")
        # The CLI knows where the inventory lies and fills in the controller's state
        # directories next to it; the binding leaves them to its caller (the action plugin).
        state = from_cli["options"].pop("state_dir")
        assert state == str(example.resolve().parent / ".metis-deploy" / "lab")
        for key in ("state_dir", "bundle_root", "bundle_dir", "backup_root"):
            from_cli["options"].pop(key, None)
            assert from_binding["options"].pop(key) is None
        assert from_cli == from_binding


def test_one_build_answers_every_host_by_name_or_address() -> None:
    org = md.Organization(FIXTURE)
    assert org.cluster_name == "Metis Org.1"
    assert org.hosts == ["node1", "node2", "node3", "node4", "node5", "node6"]
    assert org.host_plan("10.0.0.6") == org.host_plan("node6")
    plan = org.host_plan("node6")
    assert [s["name"] for s in plan["services"]] == ["data", "compute"]
    data = plan["services"][0]
    assert data["unit"] == "metis-data.service"
    assert data["python_env"]["path"] == "/opt/metis/data/venv"
    assert data["command"][:3] == ["/opt/metis/data/venv/bin/python", "-u", "-m"]
    rosetta = [a for a in data["artifacts"] if a["cpu_flag"]]
    assert {a["cpu_flag"] for a in rosetta} == {"avx2", "no_avx2"}
    assert len({a["dest"] for a in rosetta}) == 1
    admin_host = org.host_plan("node3")
    units = {s["name"]: s["unit"] for s in admin_host["services"]}
    assert units == {
        "consul": "metis-consul.service",
        "mysql": "mariadb.service",
        "admin": "metis-admin.service",
        "nginx": "nginx.service",
    }
    consul_first = org.host_plan("node1")["services"][0]
    assert [kv["key"] for kv in consul_first["kv_writes"]] == [
        "datumnetwork/glacier2_ip_port",
        "datumnetwork/icegrid_ip_port",
        "datumnetwork/dataCenter_ip_port",
    ]
    assert org.host_plan("node2")["services"][0]["kv_writes"] == []
    carrier = org.host_plan("node2")["services"][1]
    assert carrier["kv_reads"] == ["datumnetwork/dataCenter_ip_port"]
    assert carrier["secrets"][0]["command"] == ["/opt/metis/carrier/keytool", "genkeypair"]
    assert [f.path for f in org.render("node2")] == [
        f["path"] for s in org.host_plan("node2")["services"] for f in s["files"]
    ]
    with pytest.raises(md.UnknownHostError, match="no host '10.9.9.9' in the inventory"):
        org.host_plan("10.9.9.9")
    with pytest.raises(md.InvalidTypeError, match="host must be a str"):
        org.host_plan(42)  # type: ignore[arg-type]


def test_a_host_that_runs_nothing_has_an_empty_plan(tmp_path: pathlib.Path) -> None:
    inv = tmp_path / "inv.ini"
    inv.write_text(
        FIXTURE.read_text().replace(
            "[carrier]\nnode2\n", "[carrier]\nnode2\n[monitoring]\nmon1 ansible_host=10.0.0.9\n"
        )
    )
    org = md.Organization(inv)
    plan = org.host_plan("mon1")
    assert plan["host"] == "mon1" and plan["services"] == [] and plan["packages"] == []
    assert org.render("mon1") == []
    assert "mon1" not in org.host_plans()


def test_upstream_inventory_plans_every_host() -> None:
    plans = md.host_plans(UPSTREAM)
    assert len(plans) == 6
    names = {h: [s["name"] for s in p["services"]] for h, p in plans.items()}
    assert names["192.168.112.150"] == ["consul", "icegrid", "glacier2", "compute"]
    assert all(p["cluster_name"] == "demo-cluster" for p in plans.values())


def test_organization_refuses_bad_inventory(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad.ini"
    bad.write_text(FIXTURE.read_text().replace("data_port = [8700, 8701]", "data_port = [8700]"))
    with pytest.raises(md.InventoryError) as info:
        md.Organization(bad)
    assert info.value.errors[0].code == "list-length"
    with pytest.raises(md.InventoryError):
        md.host_plans(bad)


def test_variables_table() -> None:
    table = md.variables()
    assert [list(v) for v in table] == [keys_of(types.Variable)] * len(table)
    by_name = {v["name"]: v for v in table}
    assert by_name["consul_http_port"]["ansible_type"] == "list"
    assert by_name["consul_http_port"]["elements"] == "int"
    assert by_name["consul_http_port"]["required"] is True
    assert by_name["mysql_root_password"]["secret"] is True
    assert by_name["carrier_rpc_port"]["default"] == "10033"
    assert by_name["ice_protocol"]["choices"] == ["tcp", "ssl"]
    assert by_name["data_port"]["groups"] == ["data"]
    readme = (REPO / "README.md").read_text()
    for name in by_name:
        assert f"| `{name}` |" in readme


def test_health_report_is_the_cli_shape(example: pathlib.Path) -> None:
    report = md.health(example, services=["nginx"], check_timeout=0.3, timeout=0.5)
    assert list(report) == keys_of(types.HealthReport)
    for c in report["checks"]:
        assert list(c) == keys_of(types.CheckResult)
        assert c["outcome"] in typing.get_args(typing.get_type_hints(types.CheckResult)["outcome"])
        assert c["outcome"] != "ok"
