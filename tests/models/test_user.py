"""User models ("bring your own model"): add, check, list, verify, remove; library and CLI.

The store's root (`mattekit.models.user.user_root`) is a temporary folder in every test, so
the real cache gets no user models, while the built-in cached files stay where they are.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper
from PIL import Image

from evalset import EXAMPLES
from mattekit.cli import cli
from mattekit.custom import add_model, parse_size, parse_triple, sample_photo
from mattekit.errors import ModelError, OptionError
from mattekit.models import ensure_model, get_spec, import_model, verify_model
from mattekit.models import user as store
from mattekit.models.registry import UserSource

DEEPLAB_REFUSED = (
    "cannot add model 'my-deeplab': its output 'output' of shape (1, 257, 257, 21) gives 21 "
    "channels where a subject model gives one mask; export the model with a single output "
    "channel, the foreground probability"
)


@pytest.fixture()
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user-model store in a temporary folder."""
    folder = tmp_path / "user"
    monkeypatch.setattr(store, "user_root", lambda: folder)
    return folder


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def _rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _add_selfie(name: str = "my-selfie", **extra: object) -> Path:
    """Add the cached selfie ONNX (NHWC 256x256, sigmoid output) as a person model; small and fast."""
    path = ensure_model("selfie")
    add_model(name, path, task="person", size="256x256", layout="NHWC", **extra)  # type: ignore[arg-type]
    return path


# -- real models ----------------------------------------------------------------------------


@pytest.mark.models
def test_isnet_added_as_user_model_gives_the_builtin_mask(root: Path) -> None:
    from mattekit.segmenters.card import CardSegmenter
    from mattekit.segmenters.isnet import ISNetSegmenter

    original = ensure_model("isnet-small")
    spec = add_model(
        "my-isnet",
        original,
        task="subject",
        size="1024x1024",
        mean=(0.5, 0.5, 0.5),
        std=(1, 1, 1),
        layout="NCHW",
    )
    builtin = get_spec("isnet-small")
    assert get_spec("my-isnet") == spec
    assert spec.source == UserSource(str(original.resolve()))
    assert spec.source.describe() == f"user file {original.resolve()}"
    assert (spec.task, spec.license, spec.layout) == ("subject", "unknown", "NCHW")
    assert (spec.sha256, spec.size, spec.input_size) == (builtin.sha256, builtin.size, (1024, 1024))
    assert (spec.mean, spec.std) == (builtin.mean, builtin.std)
    status = verify_model("my-isnet")
    assert (status.state, status.path) == ("ok", root / "my-isnet" / "model.onnx")
    assert ensure_model("my-isnet") == status.path

    rgb = _rgb(EXAMPLES / "astronaut.jpg")
    mine = CardSegmenter(get_spec("my-isnet")).segment(rgb)
    theirs = ISNetSegmenter("isnet-small", 1024).segment(rgb)
    assert mine.shape == theirs.shape == rgb.shape[:2]
    assert float(np.abs(mine - theirs).max()) < 1e-5
    assert 0.05 < float(mine.mean()) < 0.95  # a real mask, not an empty one


@pytest.mark.models
def test_deeplab_declared_as_subject_is_refused_and_not_kept(root: Path) -> None:
    with pytest.raises(OptionError) as caught:
        add_model(
            "my-deeplab",
            ensure_model("deeplabv3-voc"),
            task="subject",
            size="257x257",
            mean=0.5,
            std=0.5,
            layout="NHWC",
        )
    assert str(caught.value) == DEEPLAB_REFUSED
    assert caught.value.option is None  # the model is refused, not an option
    assert store.user_names() == []
    assert not (root / "my-deeplab").exists()
    with pytest.raises(OptionError, match="unknown model 'my-deeplab'"):
        get_spec("my-deeplab")


@pytest.mark.models
def test_wrong_layout_and_size_say_what_to_pass(root: Path) -> None:
    deeplab = ensure_model("deeplabv3-voc")
    with pytest.raises(OptionError) as caught:
        add_model("my-deeplab", deeplab, task="subject", size="257x257", mean=0.5, std=0.5)
    assert str(caught.value) == (
        "cannot add model 'my-deeplab': its input 'input' has shape (1, 257, 257, 3), which as "
        "NCHW has 257 channels where mattekit gives 3 (RGB); it looks NHWC: pass --layout NHWC"
    )
    with pytest.raises(OptionError) as caught:
        add_model("my-selfie", ensure_model("selfie"), task="person", size="512x256", layout="NHWC")
    assert str(caught.value) == (
        "cannot add model 'my-selfie': its input 'input' takes 256x256 pixels (NHWC shape "
        "(1, 256, 256, 3)) but the card says --size 512x256; pass --size 256x256"
    )
    assert store.user_names() == []


@pytest.mark.models
def test_readding_needs_replace(root: Path) -> None:
    original = _add_selfie()
    with pytest.raises(OptionError) as caught:
        _add_selfie()
    assert str(caught.value) == (
        f"user model 'my-selfie' already exists (added from {original.resolve()}); pass "
        "--replace (replace=True) to overwrite it, or choose another name"
    )
    _add_selfie(replace=True, license="Apache-2.0")
    assert get_spec("my-selfie").license == "Apache-2.0"
    assert store.user_names() == ["my-selfie"]
    assert [p.name for p in root.iterdir() if not p.name.endswith(".lock")] == ["my-selfie"]


@pytest.mark.models
def test_refused_replacement_keeps_the_old_model(root: Path) -> None:
    _add_selfie("my-deeplab")
    before = get_spec("my-deeplab")
    with pytest.raises(OptionError, match=re.escape(DEEPLAB_REFUSED)):
        add_model("my-deeplab", ensure_model("deeplabv3-voc"), task="subject", size="257x257",
                  mean=0.5, std=0.5, layout="NHWC", replace=True)  # fmt: skip
    assert get_spec("my-deeplab") == before
    assert verify_model("my-deeplab").state == "ok"
    assert [p.name for p in root.iterdir() if not p.name.endswith(".lock")] == ["my-deeplab"]


@pytest.mark.models
def test_remove(root: Path) -> None:
    _add_selfie()
    assert store.remove_user_model("my-selfie") == root / "my-selfie"
    assert not (root / "my-selfie").exists()
    with pytest.raises(OptionError, match="unknown model 'my-selfie'"):
        get_spec("my-selfie")
    with pytest.raises(OptionError) as caught:
        store.remove_user_model("my-selfie")
    assert str(caught.value) == "no user model 'my-selfie'; user models: none"
    with pytest.raises(OptionError) as caught:
        store.remove_user_model("selfie")
    assert str(caught.value) == "'selfie' is a built-in model; only user models can be removed"
    assert verify_model("selfie").state == "ok"  # the built-in file is untouched


@pytest.mark.models
def test_corrupted_user_file_is_detected_and_can_be_imported_back(root: Path) -> None:
    original = _add_selfie()
    spec = get_spec("my-selfie")
    stored = root / "my-selfie" / "model.onnx"
    data = stored.read_bytes()
    stored.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))

    status = verify_model("my-selfie")
    assert status.state == "corrupt"
    assert re.fullmatch(rf"sha256 is [0-9a-f]{{64}}, expected {spec.sha256}", status.detail)
    with pytest.raises(ModelError) as caught:
        ensure_model("my-selfie")
    assert str(caught.value) == (
        f"user model 'my-selfie' is corrupt in the cache ({stored}: {status.detail}); add it "
        f"again with `mattekit models add my-selfie {original.resolve()} --task person --size "
        "256x256 --mean 0,0,0 --std 1,1,1 --layout NHWC --replace`"
    )
    assert import_model("my-selfie", original) == stored
    assert verify_model("my-selfie").state == "ok"


# -- options and names (no model runs) --------------------------------------------------------


def test_builtin_name_is_refused(root: Path, tmp_path: Path) -> None:
    with pytest.raises(OptionError) as caught:
        add_model("isnet-small", tmp_path / "x.onnx", task="subject", size="1024x1024")
    assert str(caught.value) == "model name 'isnet-small' is taken by a built-in model; choose another name"
    assert not root.exists() or store.user_names() == []


@pytest.mark.parametrize("name", ["My-Model", "my_model", "-x", "x--y", "", "a" * 65, "../x"])
def test_name_must_be_kebab_case(root: Path, tmp_path: Path, name: str) -> None:
    with pytest.raises(OptionError, match=re.escape(f"model name '{name}' is not kebab-case")):
        add_model(name, tmp_path / "x.onnx", task="subject", size="64x64")


@pytest.mark.parametrize("size", ["1024", "axb", "0x10", "10x-1", "10x10x3", ""])
def test_bad_size_string(root: Path, tmp_path: Path, size: str) -> None:
    with pytest.raises(OptionError) as caught:
        add_model("my-model", tmp_path / "x.onnx", task="subject", size=size)
    assert str(caught.value) == f"size: must be WIDTHxHEIGHT in pixels, e.g. 1024x1024, got '{size}'"
    assert caught.value.option == "size"


def test_parsers() -> None:
    assert parse_size("320X240") == (320, 240)
    assert parse_size((320, 240)) == (320, 240)
    assert parse_size(256) == (256, 256)
    assert parse_triple("0.485, 0.456, 0.406", "mean") == (0.485, 0.456, 0.406)
    assert parse_triple(1, "std") == (1.0, 1.0, 1.0)
    with pytest.raises(OptionError, match=r"^mean: must be R,G,B: three numbers .* got '1,2'$"):
        parse_triple("1,2", "mean")


def test_mean_on_the_255_scale_is_refused(root: Path, tmp_path: Path) -> None:
    with pytest.raises(OptionError) as caught:
        add_model("my-model", tmp_path / "x.onnx", task="subject", size="64x64", mean="127.5")
    assert str(caught.value) == (
        "mean: values are on the 0..1 scale (pixels / 255), got 127.5,127.5,127.5; "
        "divide them by 255: 0.5,0.5,0.5"
    )


def test_bad_task_and_missing_file(root: Path, tmp_path: Path) -> None:
    with pytest.raises(
        OptionError, match=r"^task: 'semantic' cannot be a user model's task; choose one of: subject, person$"
    ):
        add_model("my-model", tmp_path / "x.onnx", task="semantic", size="64x64")
    with pytest.raises(ModelError, match=r"x\.onnx: no such file to add as model 'my-model'$"):
        add_model("my-model", tmp_path / "x.onnx", task="subject", size="64x64")


# -- small synthetic graphs: value checks and unreadable files ---------------------------------


def _graph(tmp_path: Path, name: str, head: str) -> Path:
    """A tiny NCHW model with dynamic height and width: the channel mean, then `head`.

    head: "logits" (values far outside 0..1), "sigmoid" (a probability), "constant" (0.5).
    """
    nodes = [helper.make_node("ReduceMean", ["image"], ["grey"], axes=[1], keepdims=1)]
    inits = [
        helper.make_tensor("gain", TensorProto.FLOAT, [], [40.0]),
        helper.make_tensor("shift", TensorProto.FLOAT, [], [20.0]),
        helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
        helper.make_tensor("half", TensorProto.FLOAT, [], [0.5]),
    ]
    nodes += [
        helper.make_node("Mul", ["grey", "gain"], ["scaled"]),
        helper.make_node("Sub", ["scaled", "shift"], ["logits"]),
    ]
    if head == "logits":
        nodes.append(helper.make_node("Identity", ["logits"], ["mask"]))
    elif head == "sigmoid":
        nodes.append(helper.make_node("Sigmoid", ["logits"], ["mask"]))
    else:
        nodes += [
            helper.make_node("Mul", ["grey", "zero"], ["nothing"]),
            helper.make_node("Add", ["nothing", "half"], ["mask"]),
        ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "h", "w"])],
        [helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, 1, "h", "w"])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, path)
    return path


def test_logits_are_refused_with_a_sigmoid_hint(root: Path, tmp_path: Path) -> None:
    file = _graph(tmp_path, "tiny", "logits")
    with pytest.raises(OptionError) as caught:
        add_model("my-tiny", file, task="subject", size="64x64")
    assert re.fullmatch(
        r"cannot add model 'my-tiny': its output 'mask' ranges from -?[\d.]+ to [\d.]+ on the "
        r"sample photo, but it must be a probability in 0\.\.1 \(these look like logits\); add "
        r"a sigmoid to the model's output and export it again",
        str(caught.value),
    ), str(caught.value)
    assert store.user_names() == []


def test_a_constant_mask_is_refused(root: Path, tmp_path: Path) -> None:
    file = _graph(tmp_path, "tiny", "constant")
    with pytest.raises(OptionError) as caught:
        add_model("my-tiny", file, task="subject", size="64x64")
    assert str(caught.value) == (
        "cannot add model 'my-tiny': its output 'mask' is 0.5 everywhere on the sample photo, "
        "not a mask; check --mean, --std and --layout against how the model was trained"
    )


def test_a_probability_model_with_dynamic_size_is_added_and_runs(root: Path, tmp_path: Path) -> None:
    from mattekit.segmenters.card import CardSegmenter

    file = _graph(tmp_path, "tiny", "sigmoid")
    spec = add_model("my-tiny", file, task="subject", size="96x64")
    assert spec.input_size == (64, 96)
    file.unlink()  # the store keeps its own copy
    rgb = sample_photo()
    mask = CardSegmenter(get_spec("my-tiny"), refine="bilinear").segment(rgb)
    assert mask.shape == rgb.shape[:2]
    assert 0.0 <= float(mask.min()) < float(mask.max()) <= 1.0


def test_an_unreadable_file_is_a_model_error(root: Path, tmp_path: Path) -> None:
    file = tmp_path / "junk.onnx"
    file.write_bytes(b"this is not a protobuf" * 10)
    with pytest.raises(ModelError) as caught:
        add_model("my-junk", file, task="subject", size="64x64")
    message = str(caught.value)
    assert message.startswith(f"cannot add model 'my-junk': ONNX Runtime cannot load {file.resolve()} (")
    assert message.endswith("); it must be an .onnx model file")
    assert store.user_names() == []


def test_sample_photo_ships_in_the_package() -> None:
    rgb = sample_photo()
    assert rgb.shape == (512, 512, 3) and rgb.dtype == np.uint8


# -- the command line -------------------------------------------------------------------------


@pytest.mark.models
def test_cli_add_list_verify_remove(root: Path, runner: CliRunner) -> None:
    selfie = ensure_model("selfie")
    args = ["models", "add", "my-selfie", str(selfie), "--task", "person", "--size", "256x256"]
    result = runner.invoke(cli, [*args, "--layout", "nhwc"])
    assert result.exit_code == 0, result.output
    stored = root / "my-selfie" / "model.onnx"
    assert result.stdout == (
        f"my-selfie: added {stored} (person, 256x256 NHWC); use it with --model my-selfie\n"
    )

    result = runner.invoke(cli, ["models", "list"])
    assert result.exit_code == 0, result.output
    size = get_spec("my-selfie").size / 1e6
    assert (
        f"{'my-selfie':<18} {'person':<13} {'unknown':<11} {size:>6.1f}MB  yes" in result.stdout.splitlines()
    )
    assert result.stdout.splitlines()[-1].startswith("my-selfie ")  # after the built-in models

    result = runner.invoke(cli, ["models", "list", "-v"])
    assert f"    source: user file {selfie.resolve()}" in result.stdout

    result = runner.invoke(cli, ["models", "verify", "my-selfie"])
    assert (result.exit_code, result.stdout) == (0, "my-selfie: ok\n")

    result = runner.invoke(cli, [*args, "--layout", "NHWC"])
    assert result.exit_code == 2
    assert f"Error: user model 'my-selfie' already exists (added from {selfie.resolve()})" in result.stderr

    result = runner.invoke(cli, ["models", "remove", "my-selfie"])
    assert (result.exit_code, result.stdout) == (0, f"my-selfie: removed {root / 'my-selfie'}\n")
    result = runner.invoke(cli, ["models", "remove", "my-selfie"])
    assert result.exit_code == 2
    assert "Error: no user model 'my-selfie'; user models: none" in result.stderr
    result = runner.invoke(cli, ["models", "list"])
    assert "my-selfie" not in result.stdout


@pytest.mark.models
def test_cli_refuses_deeplab_as_subject_in_one_line(root: Path, runner: CliRunner) -> None:
    deeplab = ensure_model("deeplabv3-voc")
    result = runner.invoke(
        cli,
        ["models", "add", "my-deeplab", str(deeplab), "--task", "subject", "--size", "257x257",
         "--mean", "0.5,0.5,0.5", "--std", "0.5,0.5,0.5", "--layout", "NHWC"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr == f"mattekit: error: {deeplab}: {DEEPLAB_REFUSED}\n"
    assert result.stdout == ""
    assert store.user_names() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size", "1024"], "Error: --size: must be WIDTHxHEIGHT in pixels, e.g. 1024x1024, got '1024'"),
        (["--size", "64x64", "--mean", "0.5,0.5"], "Error: --mean: must be R,G,B: three numbers"),
        (["--size", "64x64", "--std", "255"], "Error: --std: values are on the 0..1 scale"),
        (["--size", "64x64", "--task", "semantic"], "Error: Invalid value for '--task'"),
    ],
)
def test_cli_usage_errors_exit_2(
    root: Path, runner: CliRunner, tmp_path: Path, args: list[str], message: str
) -> None:
    file = tmp_path / "x.onnx"
    base = ["models", "add", "my-model", str(file)]
    task = [] if "--task" in args else ["--task", "subject"]
    result = runner.invoke(cli, [*base, *task, *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_cli_builtin_name_and_removal_exit_2(root: Path, runner: CliRunner, tmp_path: Path) -> None:
    args = ["models", "add", "selfie", str(tmp_path / "x.onnx"), "--task", "person", "--size", "256x256"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert "Error: model name 'selfie' is taken by a built-in model; choose another name" in result.stderr
    result = runner.invoke(cli, ["models", "remove", "selfie"])
    assert result.exit_code == 2
    assert "Error: 'selfie' is a built-in model; only user models can be removed" in result.stderr


def test_cli_missing_file_is_one_line_exit_1(root: Path, runner: CliRunner, tmp_path: Path) -> None:
    file = tmp_path / "x.onnx"
    args = ["models", "add", "my-model", str(file), "--task", "subject", "--size", "64x64"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert result.stderr == f"mattekit: error: {file}: no such file to add as model 'my-model'\n"


@pytest.mark.models
def test_model_option_runs_the_user_model(root: Path, runner: CliRunner, tmp_path: Path) -> None:
    from mattekit import RemoveOptions, Remover

    _add_selfie()
    photo = EXAMPLES / "astronaut.jpg"
    user = Remover(RemoveOptions(model="my-selfie", quality="fast"))
    assert user.info.name == "my-selfie"
    builtin = Remover(RemoveOptions(model="selfie", quality="fast")).segment(photo).mask
    assert np.abs(user.segment(photo).mask - builtin).max() < 1e-6
    out = tmp_path / "cut.png"
    result = runner.invoke(cli, ["remove", str(photo), "--model", "my-selfie", "-Q", "fast", "-o", str(out)])
    assert result.exit_code == 0, result.output
    alpha = np.asarray(Image.open(out))[..., 3]
    assert np.abs(alpha.astype(int) - np.round(builtin * 255)).max() <= 1
    result = runner.invoke(cli, ["remove", str(photo), "--model", "deeplabv3-voc"])
    assert result.exit_code == 2
    assert (
        "--model: 'deeplabv3-voc' is a semantic model; use one whose task is person or subject"
        in result.stderr
    )
    result = runner.invoke(cli, ["remove", str(photo), "--model", "my-selfy"])
    assert result.exit_code == 2 and "--model: unknown model 'my-selfy'" in result.stderr
    assert "Did you mean 'my-selfie'?" in result.stderr
