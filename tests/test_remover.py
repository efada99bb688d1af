"""The Remover: models loaded once at construction, shared between threads, stream mode,
options checked when they are made, backgrounds as types, and the error tables."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import mattekit
from evalset import EVAL, EXAMPLES
from mattekit import (
    Blur,
    Color,
    InputError,
    InputTooLargeError,
    MattekitError,
    ModelError,
    OptionError,
    Picture,
    RemoveOptions,
    Remover,
    Transparent,
    UnsupportedInputError,
    exit_code,
    http_status,
)
from mattekit.models import runtime

PEOPLE = sorted((EVAL / "people" / "images").glob("*.jpg"))
DANCER = sorted((EVAL / "video" / "dance-twirl" / "frames").glob("*.jpg"))[:50]


@pytest.fixture()
def session_count(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Forget loaded sessions, then record every ONNX Runtime session created."""
    import onnxruntime

    created: list[str] = []
    real = onnxruntime.InferenceSession

    def counting(path: str, *args: object, **kwargs: object) -> object:
        created.append(Path(path).name)
        return real(path, *args, **kwargs)

    runtime.clear_cache()
    monkeypatch.setattr(onnxruntime, "InferenceSession", counting)
    return created


def _photos() -> list[np.ndarray]:
    """Ten photos of different sizes and shapes (portrait, landscape, tiny, large)."""
    sizes = [(512, 384), (300, 600), (1080, 1920), (97, 131), (720, 1280), (640, 640),
             (1200, 800), (256, 144), (333, 999), (1500, 1000)]  # fmt: skip
    photos = []
    for (h, w), path in zip(sizes, PEOPLE[:10], strict=True):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        photos.append(cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA))
    return photos


@pytest.mark.models
def test_models_load_once_at_construction(session_count: list[str]) -> None:
    remover = Remover(RemoveOptions(subject="person", quality="fast"))
    assert sorted(session_count) == ["selfie_segmentation.onnx", "selfie_segmentation_landscape.onnx"]
    for i, frame in enumerate(DANCER):
        out = remover.process_frame(np.asarray(Image.open(frame).convert("RGB")), 40.0 * i)
        assert out.shape[2] == 4
    assert len(DANCER) == 50
    for photo in _photos():
        assert remover.process(photo).shape[:2] == photo.shape[:2]
        assert remover.segment(photo).mask.shape == photo.shape[:2]
    assert len(session_count) == 2


@pytest.mark.models
def test_every_model_of_a_fused_level_loads_at_construction(session_count: list[str]) -> None:
    remover = Remover(RemoveOptions(subject="cat", quality="balanced"))
    loaded = len(session_count)
    assert loaded == 2  # DeepLab and IS-Net at 512 px
    found = remover.segment(EXAMPLES / "chelsea.jpg")
    assert not found.empty and found.classes == {8}
    assert len(session_count) == loaded


@pytest.mark.models
@pytest.mark.parametrize(("subject", "count"), [("person", 12), ("auto", 4)])
def test_one_remover_shared_by_four_threads_gives_the_same_masks(subject: str, count: int) -> None:
    remover = Remover(RemoveOptions(subject=subject, quality="fast"))
    photos = [np.asarray(Image.open(p).convert("RGB")) for p in PEOPLE[:count]]
    alone = [remover.segment(p).mask for p in photos]
    shared: list[np.ndarray | None] = [None] * len(photos)
    errors: list[BaseException] = []

    def work(start: int) -> None:
        try:
            for i in range(start, len(photos), 4):
                shared[i] = remover.segment(photos[i]).mask
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for a, b in zip(alone, shared, strict=True):
        assert b is not None and np.abs(a - b).max() < 1e-5


@pytest.mark.models
def test_stream_mode_timestamps_and_reset() -> None:
    remover = Remover(RemoveOptions(subject="person", quality="fast", background=Color((0, 255, 0))))
    frames = [np.asarray(Image.open(f).convert("RGB")) for f in DANCER[:3]]
    first = remover.segment_frame(frames[0], 0.0)
    assert np.array_equal(first.mask, remover.segment(frames[0]).mask)  # no temporal state yet
    out = remover.process_frame(frames[1], 33.3)
    assert out.shape == frames[1].shape and out.dtype == np.uint8
    with pytest.raises(
        InputError, match=r"frame timestamps must increase: got 10.0 ms after 33.3 ms; call reset\(\)"
    ):
        remover.process_frame(frames[2], 10.0)
    remover.reset()
    remover.process_frame(frames[2], 10.0)


@pytest.mark.models
def test_close_and_context_manager() -> None:
    with Remover(RemoveOptions(subject="person", quality="fast")) as remover:
        assert not remover.segment(EXAMPLES / "astronaut.jpg").empty
    with pytest.raises(MattekitError, match="this Remover is closed"):
        remover.segment(EXAMPLES / "astronaut.jpg")


def test_a_missing_model_fails_at_construction(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MATTEKIT_HOME", str(tmp_path))
    monkeypatch.setenv("MATTEKIT_OFFLINE", "1")
    runtime.clear_cache()
    with pytest.raises(ModelError, match="mattekit models fetch selfie"):
        Remover(RemoveOptions(subject="person", quality="fast"))
    runtime.clear_cache()


def test_segmentation_reports_what_was_kept() -> None:
    mask = np.zeros((4, 4), np.float32)
    found = mattekit.Segmentation(mask, "deeplabv3[cat]", "CPUExecutionProvider", frozenset({8}), 2)
    assert found.empty
    assert found.what_was_missing() == "no object #2 by size of the kept classes (cat)"


# -- options ------------------------------------------------------------------------------


def test_options_from_strings_match_typed_options() -> None:
    text = RemoveOptions.from_strings(
        {"subject": "Dog, cat", "quality": "fast", "keep": ["horse"], "drop": None, "instance": "largest",
         "erode": "2", "feather": "1.5", "bg": "#00ff00", "max-pixels": "1000000", "estimate_foreground": "no"}
    )  # fmt: skip
    typed = RemoveOptions(
        subject="Dog, cat", quality="fast", keep=("horse",), instance=1,
        edits=mattekit.MaskEdits(erode=2, feather=1.5), background=Color((0, 255, 0)),
        max_pixels=1_000_000, estimate_foreground=False,
    )  # fmt: skip
    assert text == typed
    assert text.kind == "classes" and text.classes == {8, 12, 13}
    assert text.device == "cpu"


@pytest.mark.parametrize(
    ("values", "option", "message"),
    [
        ({"quality": "best"}, "quality", "quality: 'best' is not one of fast, balanced, accurate."),
        (
            {"refine": "guidd"},
            "refine",
            "refine: 'guidd' is not one of none, guided, matting. Did you mean 'guided'?",
        ),
        ({"subject": "persn"}, "subject", "subject: unknown subject 'persn'; use auto, person"),
        ({"keep": "dgo"}, "keep", "keep: unknown class 'dgo'"),
        ({"drop": "dog,cat", "keep": "dog"}, "keep", "keep: class dog is both kept and dropped"),
        ({"erode": "-1"}, "erode", "erode: must be a whole number of pixels from 0 to 1000, got -1"),
        ({"erode": "x"}, "erode", "erode: 'x' is not a whole number"),
        ({"threshold": "2"}, "threshold", "threshold: must be in (0, 1], got 2.0"),
        ({"instance": "first"}, "instance", "instance: instance must be 'largest' or a number from 1"),
        ({"bg": "notacolour"}, "bg", "bg: background 'notacolour' is not a colour"),
        ({"bg": "blur:0"}, "bg", "bg: blur radius must be a number of pixels in (0, 500], got '0'"),
        ({"crop": "abc"}, "crop", "crop: margin must be pixels >= 0"),
        ({"crop": "5%", "bg": "white"}, "crop", "crop: needs a transparent cutout"),
        ({"output": "sticker", "bg": "blur"}, "bg", "bg: a sticker is a transparent cutout"),
        ({"outline_color": "nope"}, "outline_color", "outline_color: unknown colour 'nope'"),
        ({"shadow": "maybe"}, "shadow", "shadow: 'maybe' is not a yes/no value"),
        ({"device": "gpu"}, "device", "device: unknown device 'gpu'"),
        ({"model": "isnet-small", "subject": "dog"}, "model", "model: cannot be combined with VOC classes"),
        ({"qualty": "fast"}, "qualty", "qualty: unknown option; known: subject, quality"),
    ],
)
def test_option_errors_name_the_option(values: dict[str, str], option: str, message: str) -> None:
    with pytest.raises(OptionError) as caught:
        RemoveOptions.from_strings(values)
    assert caught.value.option == option
    assert str(caught.value).startswith(message)


def test_every_string_option_is_a_field_or_a_part_of_one() -> None:
    names = {f for f in RemoveOptions.__dataclass_fields__} | {"bg"}
    parts = set(mattekit.MaskEdits.__dataclass_fields__) | set(mattekit.StickerStyle.__dataclass_fields__)
    assert set(mattekit.OPTION_TEXTS) <= names | parts
    assert mattekit.OPTION_TEXTS["quality"].choices == mattekit.QUALITIES


def test_options_are_frozen_and_rechecked_on_change() -> None:
    options = RemoveOptions(quality="fast")
    with pytest.raises(AttributeError):
        options.quality = "accurate"  # type: ignore[misc]
    assert options.with_changes(subject="dog").kind == "classes"
    with pytest.raises(OptionError, match="quality: 'slow'"):
        options.with_changes(quality="slow")


# -- backgrounds --------------------------------------------------------------------------


def test_backgrounds_compose_themselves() -> None:
    rgb = np.full((4, 6, 3), 200, np.uint8)
    alpha = np.zeros((4, 6), np.float32)
    alpha[:, :3] = 1.0
    assert Transparent().compose(rgb, alpha)[..., 3].tolist() == [[255] * 3 + [0] * 3] * 4
    assert Color((0, 0, 255)).compose(rgb, alpha)[0, 5].tolist() == [0, 0, 255]
    picture = np.zeros((2, 3, 3), np.uint8)
    picture[..., 1] = 77
    assert Picture(picture).compose(rgb, alpha)[3, 5].tolist() == [0, 77, 0]
    assert Blur(3).compose(rgb, alpha)[0, 0].tolist() == [200, 200, 200]


def test_a_picture_is_decoded_once_and_scaled_once_per_size(tmp_path: Path) -> None:
    path = tmp_path / "beach.png"
    Image.new("RGB", (300, 100), (10, 120, 250)).save(path)
    options = RemoveOptions(background=str(path))
    picture = options.background
    assert isinstance(picture, Picture) and picture.image.shape == (100, 300, 3)
    first = picture.covered(40, 60)
    assert picture.covered(40, 60) is first
    assert picture.covered(30, 30) is not first and picture.covered(30, 30).shape == (30, 30, 3)


def test_background_errors_keep_their_class(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    Image.new("RGB", (200, 100)).save(big)
    with pytest.raises(InputTooLargeError, match=r"background image: .*20000 pixels"):
        RemoveOptions(background=str(big), max_pixels=10_000)
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    with pytest.raises(UnsupportedInputError, match="background image:"):
        RemoveOptions.from_strings({"bg": str(text)})


# -- error tables -------------------------------------------------------------------------


def _all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


def test_every_error_class_has_an_exit_code_and_a_status() -> None:
    for cls in {MattekitError} | _all_subclasses(MattekitError):
        exc = cls("x")
        assert exit_code(exc) in (1, 2)
        assert 400 <= http_status(exc) <= 599
    assert exit_code(OptionError("x")) == 2 and exit_code(ModelError("x")) == 1
    assert [http_status(e("x")) for e in (UnsupportedInputError, InputTooLargeError, InputError, OptionError, ModelError)] == [
        415, 413, 422, 422, 503,
    ]  # fmt: skip
