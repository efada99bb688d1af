"""The Ray engine on a two-node cluster on this machine (a head and one worker node, one CPU
each, small object stores): `mattekit batch --ray-address` sends one actor to each node, and
every output comes back whole."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from batch_fixtures import BAD, LAYOUT, check_outputs, photo_tree, read_report

pytestmark = pytest.mark.models

_STORE = 100 * 1024 * 1024  # bytes of object store per node: only small results travel


def _ray_cluster_utils() -> Any:
    try:
        import ray.cluster_utils
    except ImportError as exc:
        if os.environ.get("CI") == "true":  # CI installs the test extra, which has Ray
            raise
        pytest.skip(f"Ray is not installed here ({exc}); pip install 'mattekit[ray]'")
    return ray.cluster_utils


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A head node and one worker node, one CPU each; yields the cluster's address."""
    cluster_utils = _ray_cluster_utils()
    node = {
        "num_cpus": 1,
        "object_store_memory": _STORE,
        "include_dashboard": False,
    }
    cluster = cluster_utils.Cluster(initialize_head=True, head_node_args=node)
    try:
        cluster.add_node(**{k: v for k, v in node.items() if k != "include_dashboard"})
        cluster.wait_for_nodes()
        yield cluster.address
    finally:
        cluster.shutdown()


def test_two_node_cluster_makes_every_output(photo_tree: Path, tmp_path: Path, two_nodes: str) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "mattekit", "batch", str(photo_tree), "-o", str(out), "-r",
               "-s", "person", "-Q", "fast", "--ray-address", two_nodes, "--threads", "1"]  # fmt: skip
    first = subprocess.run(command, capture_output=True, text=True, timeout=150)
    assert first.returncode == 1, first.stderr  # the two bad files
    assert "Traceback" not in first.stderr
    items, summary = read_report(out / "mattekit-report.jsonl")
    assert {i["input"]: i["status"] for i in items} == {
        **dict.fromkeys(LAYOUT, "ok"),
        **dict.fromkeys(BAD, "failed"),
    }
    assert summary is not None and summary["engine"] == "ray" and summary["workers"] == 2
    nodes = {i["worker"].split()[1] for i in items if i["status"] == "ok"}
    assert len(nodes) == 2, f"expected actors on both nodes, got {nodes}"
    check_outputs(out)
