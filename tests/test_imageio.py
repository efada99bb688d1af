"""Tests for mattekit.io.images: decoding every mode, bad inputs, encoding, atomic writes.

Every file is generated here, in tmp_path, with Pillow (or by hand where Pillow would refuse).
"""

from __future__ import annotations

import io
import os
import struct
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageOps

from mattekit.errors import InputError, InputTooLargeError, OptionError, UnsupportedInputError
from mattekit.io import images as imageio
from mattekit.io.images import (
    DecodedImage,
    decode_image,
    encode_image,
    ensure_not_input,
    format_for_path,
    write_atomic,
)

# --- helpers ----------------------------------------------------------------------------------------


def quadrants(height: int = 40, width: int = 60) -> NDArray[np.uint8]:
    """A non-symmetric RGB image: red, green, blue, yellow quadrants (any flip or turn changes it)."""
    img = np.zeros((height, width, 3), np.uint8)
    h, w = height // 2, width // 2
    img[:h, :w] = (255, 0, 0)
    img[:h, w:] = (0, 255, 0)
    img[h:, :w] = (0, 0, 255)
    img[h:, w:] = (255, 255, 0)
    return img


def textured(height: int = 48, width: int = 64, channels: int = 3, seed: int = 0) -> NDArray[np.uint8]:
    """Smooth gradients plus noise: photo-like enough for codecs, exact values for round trips."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([(x * 4) % 256, (y * 5) % 256, ((x + y) * 3) % 256, (x * y) % 256][:channels], axis=2)
    noise = rng.integers(0, 20, size=(height, width, channels))
    return ((base + noise) % 256).astype(np.uint8)


def smooth(height: int = 48, width: int = 64) -> NDArray[np.uint8]:
    """Soft gradients, where a good JPEG stays within a few levels of the original."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    rgb = np.stack([x / width, y / height, 0.5 + 0.4 * np.sin(x / 7.0) * np.cos(y / 9.0)], axis=2)
    return np.asarray(np.rint(rgb * 255), np.uint8)


def save(image: Image.Image, path: Path, **params: object) -> Path:
    image.save(path, None, **params)
    return path


def jpeg_bytes(image: Image.Image, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **params)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def huge_png_header(width: int, height: int) -> bytes:
    """A PNG that claims width x height RGBA in its IHDR, with no pixels behind it."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IEND", b"")


def with_exif_orientation(image: Image.Image, orientation: int) -> Image.Exif:
    exif = image.getexif()
    exif[0x0112] = orientation
    return exif


@pytest.fixture(autouse=True)
def _no_env_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(imageio.MAX_PIXELS_ENV, raising=False)


# --- decoding: modes --------------------------------------------------------------------------------


def test_rgb_png_is_exact(tmp_path: Path) -> None:
    pixels = textured()
    decoded = decode_image(save(Image.fromarray(pixels), tmp_path / "a.png"))
    assert isinstance(decoded, DecodedImage)
    assert decoded.rgb.dtype == np.uint8 and decoded.rgb.shape == (48, 64, 3)
    np.testing.assert_array_equal(decoded.rgb, pixels)
    assert decoded.alpha is None
    assert decoded.format == "PNG"
    assert decoded.size == (64, 48)


def test_rgba_png_keeps_its_alpha(tmp_path: Path) -> None:
    pixels = textured(channels=4)
    decoded = decode_image(save(Image.fromarray(pixels, "RGBA"), tmp_path / "a.png"))
    np.testing.assert_array_equal(decoded.rgb, pixels[..., :3])
    assert decoded.alpha is not None and decoded.alpha.dtype == np.float32 and decoded.alpha.shape == (48, 64)
    np.testing.assert_allclose(decoded.alpha, pixels[..., 3] / 255.0, atol=1e-6)
    assert decoded.rgb.flags.c_contiguous


def test_la_png_gives_grey_rgb_and_alpha(tmp_path: Path) -> None:
    grey = textured(channels=1)[..., 0]
    alpha = np.tile(np.linspace(0, 255, 64).astype(np.uint8), (48, 1))
    image = Image.merge("LA", (Image.fromarray(grey), Image.fromarray(alpha)))
    decoded = decode_image(save(image, tmp_path / "la.png"))
    for channel in range(3):
        np.testing.assert_array_equal(decoded.rgb[..., channel], grey)
    assert decoded.alpha is not None
    assert decoded.alpha[0, 0] == 0.0 and decoded.alpha[0, -1] == 1.0


def test_l_and_1_modes_become_grey_rgb(tmp_path: Path) -> None:
    grey = textured(channels=1)[..., 0]
    decoded = decode_image(save(Image.fromarray(grey), tmp_path / "l.png"))
    np.testing.assert_array_equal(decoded.rgb, np.repeat(grey[..., None], 3, axis=2))
    bits = Image.fromarray(grey > 128).convert("1")
    decoded = decode_image(save(bits, tmp_path / "1.png"))
    assert decoded.rgb.shape == (48, 64, 3)
    assert set(np.unique(decoded.rgb).tolist()) == {0, 255}
    np.testing.assert_array_equal(decoded.rgb[..., 0] == 255, grey > 128)


def test_palette_with_transparency_becomes_alpha_zero(tmp_path: Path) -> None:
    image = Image.new("P", (10, 6), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * (256 * 3 - 6))
    image.paste(1, (0, 0, 5, 6))
    decoded = decode_image(save(image, tmp_path / "p.png", transparency=1))
    assert decoded.alpha is not None
    assert (decoded.alpha[:, :5] == 0.0).all() and (decoded.alpha[:, 5:] == 1.0).all()
    assert (decoded.rgb[:, 5:] == (255, 0, 0)).all()


def test_palette_without_transparency_has_no_alpha(tmp_path: Path) -> None:
    image = Image.fromarray(quadrants()).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    decoded = decode_image(save(image, tmp_path / "p.png"))
    assert decoded.alpha is None
    np.testing.assert_array_equal(decoded.rgb, quadrants())


def test_16_bit_png_is_scaled_not_clipped(tmp_path: Path) -> None:
    values = np.array([[0, 257, 32768, 65535]], np.uint16)
    image = Image.fromarray(values)
    assert image.mode == "I;16"
    decoded = decode_image(save(image, tmp_path / "deep.png"))
    assert decoded.rgb.dtype == np.uint8
    assert decoded.rgb[0, :, 0].tolist() == [0, 1, 128, 255]  # clipping would give [0, 255, 255, 255]


def test_32_bit_integer_tiff_uses_the_16_bit_range(tmp_path: Path) -> None:
    image = Image.fromarray(np.array([[0, 65535, 32768, 70000]], np.int32), "I")
    decoded = decode_image(save(image, tmp_path / "int.tif"))
    assert decoded.rgb[0, :, 1].tolist() == [0, 255, 128, 255]


@pytest.mark.parametrize(
    ("values", "expected"),
    [([0.0, 0.5, 1.0], [0, 128, 255]), ([0.0, 128.0, 300.0], [0, 128, 255])],
    ids=["unit-range", "byte-range"],
)
def test_float_tiff(tmp_path: Path, values: list[float], expected: list[int]) -> None:
    image = Image.fromarray(np.array([values], np.float32), "F")
    decoded = decode_image(save(image, tmp_path / "float.tif"))
    assert decoded.rgb[0, :, 2].tolist() == expected


def test_cmyk_jpeg_and_tiff_convert_to_rgb(tmp_path: Path) -> None:
    white = Image.new("CMYK", (16, 16), (0, 0, 0, 0))
    decoded = decode_image(save(white, tmp_path / "white.jpg"))
    assert decoded.format == "JPEG"
    assert decoded.rgb.min() >= 253
    red = Image.new("CMYK", (16, 16), (0, 255, 255, 0))
    decoded = decode_image(save(red, tmp_path / "red.jpg"))
    assert np.abs(decoded.rgb.astype(int) - (255, 0, 0)).max() <= 3
    decoded = decode_image(save(red, tmp_path / "red.tif"))
    assert (decoded.rgb == (255, 0, 0)).all()


def test_gif_decodes_its_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (8, 8), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    decoded = decode_image(path)
    assert decoded.format == "GIF"
    assert (decoded.rgb == (255, 0, 0)).all()


def test_gif_transparency_becomes_alpha(tmp_path: Path) -> None:
    image = Image.new("P", (8, 8), 0)
    image.putpalette([0, 0, 0, 255, 255, 255] + [0] * (256 * 3 - 6))
    image.paste(1, (0, 0, 8, 4))
    decoded = decode_image(save(image, tmp_path / "t.gif", transparency=0))
    assert decoded.alpha is not None
    assert (decoded.alpha[:4] == 1.0).all() and (decoded.alpha[4:] == 0.0).all()


@pytest.mark.parametrize(
    ("suffix", "mode"), [(".webp", "RGBA"), (".webp", "RGB"), (".bmp", "RGB"), (".tif", "RGBA")]
)
def test_lossless_containers(tmp_path: Path, suffix: str, mode: str) -> None:
    pixels = textured(channels=len(mode))
    params: dict[str, object] = {"lossless": True, "exact": True} if suffix == ".webp" else {}
    decoded = decode_image(save(Image.fromarray(pixels, mode), tmp_path / f"a{suffix}", **params))
    np.testing.assert_array_equal(decoded.rgb, pixels[..., :3])
    if mode == "RGBA":
        assert decoded.alpha is not None
        np.testing.assert_array_equal(np.rint(decoded.alpha * 255).astype(np.uint8), pixels[..., 3])
    else:
        assert decoded.alpha is None


# --- decoding: EXIF orientation and the JPEG fast path --------------------------------------------


@pytest.mark.parametrize(("orientation", "turn"), [(6, -1), (8, 1)])
def test_exif_orientation_turns_jpeg(tmp_path: Path, orientation: int, turn: int) -> None:
    image = Image.fromarray(quadrants())
    path = save(image, tmp_path / "o.jpg", quality=95, exif=with_exif_orientation(image, orientation))
    decoded = decode_image(path)
    assert decoded.size == (40, 60)
    expected = np.rot90(quadrants(), turn)  # 6: 90 degrees clockwise, 8: counter-clockwise
    for rows in (slice(5, 25), slice(35, 55)):
        for cols in (slice(5, 15), slice(25, 35)):  # quadrant centres, away from JPEG edge ringing
            assert np.abs(decoded.rgb[rows, cols].astype(int) - expected[rows, cols]).max() <= 8


@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_fast_path_matches_pillow_for_every_orientation(orientation: int) -> None:
    image = Image.fromarray(textured(37, 53))
    data = jpeg_bytes(image, quality=92, exif=with_exif_orientation(image, orientation))
    reference = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")).astype(int)
    decoded = decode_image(data)
    assert decoded.rgb.shape == reference.shape
    difference = np.abs(decoded.rgb.astype(int) - reference)
    assert difference.max() <= 2 and difference.mean() < 0.5


def test_png_orientation_goes_through_pillow(tmp_path: Path) -> None:
    image = Image.fromarray(quadrants())
    decoded = decode_image(save(image, tmp_path / "o.png", exif=with_exif_orientation(image, 6)))
    np.testing.assert_array_equal(decoded.rgb, np.rot90(quadrants(), -1))


def test_complete_jpeg_takes_the_fast_path_and_others_do_not(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    fast = imageio.decoding._decode_jpeg_fast

    def spy(data: bytes, header: Image.Image) -> NDArray[np.uint8] | None:
        calls.append(len(data))
        return fast(data, header)

    monkeypatch.setattr(imageio.decoding, "_decode_jpeg_fast", spy)
    data = jpeg_bytes(Image.fromarray(textured()))
    via_fast = decode_image(data)
    assert len(calls) == 1
    via_pillow = decode_image(data + b"\x00trailer")  # no EOI at the end: Pillow decides
    assert len(calls) == 1
    decode_image(jpeg_bytes(Image.new("CMYK", (8, 8))))
    assert len(calls) == 1
    assert np.abs(via_fast.rgb.astype(int) - via_pillow.rgb.astype(int)).max() <= 2


def test_fast_path_falls_back_to_pillow_when_opencv_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imageio.decoding, "_decode_jpeg_fast", lambda data, header: None)
    pixels = smooth()
    decoded = decode_image(jpeg_bytes(Image.fromarray(pixels), quality=95))
    assert decoded.rgb.shape == (48, 64, 3)
    assert np.abs(decoded.rgb.astype(int) - pixels).mean() < 2


def test_multi_picture_jpeg_gives_its_first_image_as_jpeg() -> None:
    first, second = Image.new("RGB", (32, 24), (200, 30, 30)), Image.new("RGB", (32, 24), (30, 200, 30))
    buffer = io.BytesIO()
    first.save(buffer, "MPO", save_all=True, append_images=[second])
    decoded = decode_image(buffer.getvalue())
    assert decoded.format == "JPEG"
    assert np.abs(decoded.rgb.astype(int) - (200, 30, 30)).max() <= 3


def test_grey_jpeg_becomes_three_equal_channels() -> None:
    decoded = decode_image(jpeg_bytes(Image.fromarray(textured(channels=1)[..., 0])))
    assert decoded.rgb.shape == (48, 64, 3)
    assert (decoded.rgb[..., 0] == decoded.rgb[..., 1]).all() and (
        decoded.rgb[..., 1] == decoded.rgb[..., 2]
    ).all()


# --- decoding: sources ------------------------------------------------------------------------------


def test_bytes_bytearray_memoryview_and_file_objects(tmp_path: Path) -> None:
    pixels = textured()
    path = save(Image.fromarray(pixels), tmp_path / "a.png")
    data = path.read_bytes()
    for source in (data, bytearray(data), memoryview(data), io.BytesIO(data)):
        np.testing.assert_array_equal(decode_image(source).rgb, pixels)
    with open(path, "rb") as handle:
        np.testing.assert_array_equal(decode_image(handle).rgb, pixels)


def test_text_mode_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("hello")
    with (
        open(path, encoding="utf-8") as handle,
        pytest.raises(InputError, match=r"a\.txt: .*binary mode \('rb'\)"),
    ):
        decode_image(handle)  # type: ignore[arg-type]


def test_unicode_path_decodes(tmp_path: Path) -> None:
    pixels = smooth()
    path = tmp_path / "фото 写真.jpg"
    Image.fromarray(pixels).save(path, quality=95)
    decoded = decode_image(path)
    assert decoded.format == "JPEG"
    assert np.abs(decoded.rgb.astype(int) - pixels).mean() < 2
    decoded = decode_image(str(path))
    assert decoded.size == (64, 48)


def test_pil_input_is_converted_and_left_untouched() -> None:
    pixels = textured(channels=4)
    image = Image.fromarray(pixels, "RGBA")
    decoded = decode_image(image)
    np.testing.assert_array_equal(decoded.rgb, pixels[..., :3])
    assert decoded.alpha is not None
    decoded.rgb[...] = 0
    assert np.asarray(image)[..., :3].max() > 0


def test_pil_input_with_orientation_is_turned_without_changing_it() -> None:
    image = Image.open(
        io.BytesIO(
            jpeg_bytes(Image.fromarray(quadrants()), exif=with_exif_orientation(Image.new("RGB", (1, 1)), 8))
        )
    )
    decoded = decode_image(image)
    assert decoded.size == (40, 60)
    assert decoded.format == "JPEG"
    assert image.size == (60, 40)


@pytest.mark.parametrize(
    ("array", "rgb00", "has_alpha"),
    [
        (np.full((4, 5), 7, np.uint8), (7, 7, 7), False),
        (np.full((4, 5, 1), 9, np.uint8), (9, 9, 9), False),
        (np.full((4, 5, 3), (1, 2, 3), np.uint8), (1, 2, 3), False),
        (np.full((4, 5, 4), (1, 2, 3, 51), np.uint8), (1, 2, 3), True),
        (np.full((4, 5, 3), (0.0, 0.5, 1.0), np.float32), (0, 128, 255), False),
        (np.full((4, 5), 1.0, np.float64), (255, 255, 255), False),
    ],
    ids=["grey", "grey-1ch", "rgb", "rgba", "float32", "float64-grey"],
)
def test_numpy_inputs(array: NDArray[np.generic], rgb00: tuple[int, int, int], has_alpha: bool) -> None:
    before = array.copy()
    decoded = decode_image(array)
    assert decoded.rgb.shape == (4, 5, 3) and decoded.rgb.dtype == np.uint8
    assert tuple(decoded.rgb[0, 0].tolist()) == rgb00
    assert (decoded.alpha is not None) == has_alpha
    if decoded.alpha is not None:
        assert decoded.alpha.dtype == np.float32 and decoded.alpha[0, 0] == pytest.approx(0.2)
    decoded.rgb[...] = 99
    np.testing.assert_array_equal(array, before)
    assert decoded.format is None


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (
            np.zeros((4, 5), np.uint16),
            r"unsupported array dtype uint16; expected uint8 \(0\.\.255\) or float \(0\.\.1\)",
        ),
        (np.full((4, 5, 3), 2.0, np.float32), r"a float array must hold values in 0\.\.1, got 2\.\.2"),
        (np.full((4, 5), np.nan, np.float32), r"a float array must hold values in 0\.\.1, got nan\.\.nan"),
        (
            np.zeros((4, 5, 2), np.uint8),
            r"expected an array of shape \(H, W\), \(H, W, 3\) or \(H, W, 4\), got shape \(4, 5, 2\)",
        ),
        (np.zeros((2, 4, 5, 3), np.uint8), r"expected an array of shape .* got shape \(2, 4, 5, 3\)"),
        (np.zeros((0, 5, 3), np.uint8), r"the array is empty"),
    ],
    ids=["uint16", "float-range", "nan", "two-channels", "4d", "empty"],
)
def test_bad_arrays_are_refused(array: NDArray[np.generic], message: str) -> None:
    with pytest.raises(InputError, match=r"^array: " + message):
        decode_image(array)


def test_unknown_source_type_is_refused() -> None:
    with pytest.raises(InputError, match=r"cannot decode a int; expected a path, bytes"):
        decode_image(42)  # type: ignore[arg-type]


# --- decoding: bad inputs ---------------------------------------------------------------------------


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.jpg: empty file \(0 bytes\)$"):
        decode_image(path)
    with pytest.raises(InputError, match=r"^input: empty data"):
        decode_image(b"")


def test_truncated_jpeg_is_an_error_not_a_grey_image(tmp_path: Path) -> None:
    data = jpeg_bytes(Image.fromarray(textured(200, 300)))
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(InputError, match=r"cut\.jpg: truncated or corrupt image data") as caught:
        decode_image(path)
    assert not isinstance(caught.value, UnsupportedInputError)


def test_truncated_jpeg_header(tmp_path: Path) -> None:
    path = tmp_path / "stub.jpg"
    path.write_bytes(jpeg_bytes(Image.fromarray(textured()))[:20])
    with pytest.raises(InputError, match=r"stub\.jpg: truncated or corrupt JPEG data"):
        decode_image(path)


def test_truncated_png(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.fromarray(textured(100, 100)).save(buffer, "PNG")
    with pytest.raises(InputError, match=r"^x\.png: truncated or corrupt"):
        decode_image(buffer.getvalue()[:-300], name="x.png")


def test_text_named_jpg_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a picture\n" * 10)
    with pytest.raises(UnsupportedInputError, match=r"notes\.jpg: not an image \(or an unsupported format\)"):
        decode_image(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.jpg: no such file$"):
        decode_image(tmp_path / "nope.jpg")
    with pytest.raises(InputError, match=r": is a folder, not an image file$"):
        decode_image(tmp_path)


def test_name_overrides_the_label(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^upload\.png: no such file$"):
        decode_image(tmp_path / "x.png", name="upload.png")


def test_pixel_bomb_is_refused_from_the_header() -> None:
    data = huge_png_header(30000, 30000)
    assert len(data) < 100  # the claim alone: decoding it would need 3.6 GB
    with pytest.raises(
        InputTooLargeError,
        match=r"^bomb\.png is 30000x30000 = 900 MP, over the limit of 100 MP; "
        r"raise it with --max-pixels or MATTEKIT_MAX_PIXELS$",
    ):
        decode_image(data, name="bomb.png")


def test_pixel_limit_from_argument_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    data = huge_png_header(400, 300)  # 120,000 pixels; decoding would fail (no IDAT), refusing must not
    with pytest.raises(InputTooLargeError, match=r"400x300 = 0\.1 MP, over the limit of 0\.1 MP"):
        decode_image(data, max_pixels=119_999)
    monkeypatch.setenv(imageio.MAX_PIXELS_ENV, "1000")
    with pytest.raises(InputTooLargeError, match=r"over the limit of 1000 pixels"):
        decode_image(np.zeros((40, 40), np.uint8))
    assert decode_image(np.zeros((40, 40), np.uint8), max_pixels=1600).size == (40, 40)
    monkeypatch.setenv(imageio.MAX_PIXELS_ENV, "lots")
    with pytest.raises(
        OptionError, match=r"MATTEKIT_MAX_PIXELS must be a positive whole number of pixels .* got 'lots'"
    ):
        decode_image(np.zeros((4, 4), np.uint8))
    with pytest.raises(OptionError, match=r"max_pixels must be a positive number of pixels, got 0"):
        decode_image(np.zeros((4, 4), np.uint8), max_pixels=0)


def test_pillow_decompression_bomb_error_maps_to_input_too_large() -> None:
    # A GIF whose 10x10 screen holds a 20000x20000 frame: Pillow's own check fires while parsing.
    header = b"GIF89a" + struct.pack("<HHBBB", 10, 10, 0, 0, 0)
    frame = b"," + struct.pack("<HHHHB", 0, 0, 20000, 20000, 0) + b"\x02\x02\x4c\x01\x00;"
    with pytest.raises(InputTooLargeError, match=r"^g\.gif: over Pillow's decompression-bomb limit"):
        decode_image(header + frame, name="g.gif", max_pixels=10**9)


# --- encoding ---------------------------------------------------------------------------------------


def decode_bytes(data: bytes) -> NDArray[np.uint8]:
    with Image.open(io.BytesIO(data)) as image:
        return np.array(image)


@pytest.mark.parametrize("channels", [3, 4])
def test_png_round_trip_is_exact_with_fpng(channels: int) -> None:
    pixels = textured(channels=channels)
    data = encode_image(pixels, "PNG")
    assert imageio.encoding._png_backend() is not None  # fpng is a dependency and must pass its self-check
    np.testing.assert_array_equal(decode_bytes(data), pixels)
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert bgr is not None
    np.testing.assert_array_equal(bgr[..., 2::-1], pixels[..., :3])


@pytest.mark.parametrize("channels", [3, 4])
def test_png_round_trip_is_exact_without_fpng(monkeypatch: pytest.MonkeyPatch, channels: int) -> None:
    monkeypatch.setattr(imageio.encoding, "_png_backend", lambda: None)
    pixels = textured(channels=channels)
    data = encode_image(pixels, "png")
    np.testing.assert_array_equal(decode_bytes(data), pixels)


def test_fpng_is_rejected_when_its_self_check_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    class BrokenFpng:
        @staticmethod
        def from_ndarray(array: NDArray[np.uint8]) -> bytes:
            buffer = io.BytesIO()
            Image.fromarray(np.ascontiguousarray(array[::-1])).save(buffer, "PNG")  # upside down
            return buffer.getvalue()

    imageio.encoding._png_backend.cache_clear()
    monkeypatch.setitem(sys.modules, "fpng", BrokenFpng)
    try:
        assert imageio.encoding._png_backend() is None
        pixels = textured(channels=4)
        np.testing.assert_array_equal(decode_bytes(encode_image(pixels, "PNG")), pixels)
    finally:
        imageio.encoding._png_backend.cache_clear()


def test_grey_png_is_8_bit_l() -> None:
    mask = textured(channels=1)[..., 0]
    data = encode_image(mask, "PNG")
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == "L"
        np.testing.assert_array_equal(np.asarray(image), mask)


def test_encode_does_not_change_its_input_and_takes_strided_arrays() -> None:
    big = textured(48, 128, channels=4)
    view = big[:, ::2]
    before = big.copy()
    for fmt in ("PNG", "WEBP"):
        np.testing.assert_array_equal(decode_bytes(encode_image(view, fmt))[..., 3], view[..., 3])
    np.testing.assert_array_equal(big, before)


def test_webp_lossless_round_trip() -> None:
    rgb = textured()
    np.testing.assert_array_equal(decode_bytes(encode_image(rgb, "WEBP")), rgb)
    rgba = textured(channels=4)
    rgba[:10, :10, 3] = 0
    decoded = decode_bytes(encode_image(rgba, "webp"))
    np.testing.assert_array_equal(decoded[..., 3], rgba[..., 3])
    visible = rgba[..., 3] > 0
    np.testing.assert_array_equal(decoded[visible], rgba[visible])


def test_webp_with_quality_is_lossy_and_smaller() -> None:
    photo = np.asarray(cv2.GaussianBlur(textured(128, 128, seed=3), (0, 0), 2), np.uint8)
    lossless = encode_image(photo, "WEBP")
    lossy = encode_image(photo, "WEBP", quality=80)
    assert len(lossy) < len(lossless) / 2
    decoded = decode_bytes(lossy)
    assert not np.array_equal(decoded, photo)
    assert np.abs(decoded.astype(int) - photo).mean() < 6


def test_jpeg_encode_quality_and_modes() -> None:
    photo = np.asarray(cv2.GaussianBlur(textured(128, 128, seed=4), (0, 0), 2), np.uint8)
    high, low = encode_image(photo, "JPEG", quality=95), encode_image(photo, "jpg", quality=30)
    assert len(low) < len(high)
    assert np.abs(decode_bytes(high).astype(int) - photo).mean() < 3
    with Image.open(io.BytesIO(encode_image(photo[..., 0], "JPEG"))) as image:
        assert image.mode == "L"


def test_jpeg_refuses_rgba() -> None:
    with pytest.raises(
        OptionError,
        match=r"^JPEG has no transparency; use \.png or \.webp for a cutout, or pass a background$",
    ):
        encode_image(textured(channels=4), "JPEG")


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_bmp_and_tiff_round_trip(fmt: str) -> None:
    pixels = textured()
    np.testing.assert_array_equal(decode_bytes(encode_image(pixels, fmt)), pixels)


def test_encode_errors() -> None:
    with pytest.raises(
        OptionError, match=r"unknown image format 'gif'; use one of PNG, WEBP, JPEG, BMP, TIFF"
    ):
        encode_image(textured(), "gif")
    with pytest.raises(OptionError, match=r"quality must be between 1 and 100, got 0"):
        encode_image(textured(), "JPEG", quality=0)
    with pytest.raises(InputError, match=r"cannot encode float32; expected a uint8 array"):
        encode_image(np.zeros((4, 4, 3), np.float32), "PNG")
    with pytest.raises(InputError, match=r"cannot encode an array of shape \(4, 4, 2\)"):
        encode_image(np.zeros((4, 4, 2), np.uint8), "PNG")


# --- paths ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.png", "PNG"),
        ("a.webp", "WEBP"),
        ("a.jpg", "JPEG"),
        ("a.JPEG", "JPEG"),
        ("a.bmp", "BMP"),
        ("a.tif", "TIFF"),
        ("dir.v2/a.tiff", "TIFF"),
    ],
)
def test_format_for_path(name: str, fmt: str) -> None:
    assert format_for_path(name) == fmt
    assert format_for_path(Path(name)) == fmt


def test_format_for_unknown_path() -> None:
    with pytest.raises(
        OptionError,
        match=r"a\.gif: cannot tell the output format from extension '\.gif'; "
        r"use one of \.png, \.webp, \.jpg, \.jpeg, \.bmp, \.tif, \.tiff$",
    ):
        format_for_path("a.gif")
    with pytest.raises(OptionError, match=r"from no extension"):
        format_for_path("cutout")


def test_write_atomic_creates_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    write_atomic(target, b"first")
    assert target.read_bytes() == b"first"
    write_atomic(str(target), b"second")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_write_atomic_renames_a_complete_sibling_over_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    seen: list[tuple[Path, bytes, bytes]] = []
    real_replace = os.replace

    def spy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        seen.append((Path(src), Path(src).read_bytes(), Path(dst).read_bytes()))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_atomic(target, b"new contents")
    assert len(seen) == 1
    temp, temp_data, target_data_then = seen[0]
    assert temp.parent == tmp_path and temp != target and temp.name.startswith(".out.png.")
    assert temp_data == b"new contents" and target_data_then == b"old"
    assert target.read_bytes() == b"new contents"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_write_atomic_gives_normal_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "out.png", b"x")
    finally:
        os.umask(umask)
    assert (tmp_path / "out.png").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_write_atomic_failure_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    def boom(*args: object) -> None:
        raise OSError(28, "No space left on device")

    new, existing = tmp_path / "new.png", tmp_path / "old.png"
    existing.write_bytes(b"old contents")
    monkeypatch.setattr(os, failing, boom)
    for target in (new, existing):
        with pytest.raises(OSError, match="No space left"):
            write_atomic(target, b"new contents")
    monkeypatch.undo()
    assert not new.exists()
    assert existing.read_bytes() == b"old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.png"]


def test_write_atomic_bad_targets(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match=r"the output folder .*missing does not exist"):
        write_atomic(tmp_path / "missing" / "out.png", b"x")
    with pytest.raises(OptionError, match=r"is a folder; give a file name"):
        write_atomic(tmp_path, b"x")


def test_ensure_not_input_catches_other_spellings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sub").mkdir()
    source = tmp_path / "in.jpg"
    source.write_bytes(b"data")
    monkeypatch.chdir(tmp_path)
    spellings: list[str | Path] = [Path("in.jpg"), "./in.jpg", Path("sub/../in.jpg"), str(source)]
    link = tmp_path / "link.jpg"
    link.symlink_to(source)
    spellings.append(link)
    hard = tmp_path / "hard.jpg"
    os.link(source, hard)
    spellings.append(hard)
    for output in spellings:
        with pytest.raises(
            InputError, match=r"this output is the input .*in\.jpg; choose another output path"
        ):
            ensure_not_input(output, [tmp_path / "other.jpg", source])
    with pytest.raises(InputError):
        ensure_not_input(source, [Path("in.jpg")])


def test_ensure_not_input_allows_other_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "in.jpg"
    source.write_bytes(b"data")
    (tmp_path / "out.png").write_bytes(b"old")
    monkeypatch.chdir(tmp_path)
    ensure_not_input(Path("out.png"), [source])
    ensure_not_input(tmp_path / "new.png", [source, Path("in.jpg")])
    ensure_not_input("in.jpg.png", iter([source]))
    with pytest.raises(InputError):  # neither exists yet, still the same path
        ensure_not_input(tmp_path / "later.png", [Path("later.png")])
