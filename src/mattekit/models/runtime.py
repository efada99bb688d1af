"""ONNX Runtime sessions: the one place that imports onnxruntime.

Devices map to ONNX Runtime execution providers. Asking for a device whose provider is not
in the installed build is an error, never a silent fall-back to CPU, and the provider a
session really uses is reported (`Session.provider`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mattekit.errors import ModelError, OptionError

if TYPE_CHECKING:
    import onnxruntime

__all__ = [
    "DEVICES",
    "Session",
    "clear_cache",
    "describe_runtime",
    "load_session",
    "memory_arena",
    "resolve_device",
    "thread_count",
    "usable_cpus",
]

DEVICES: dict[str, str] = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "directml": "DmlExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
}

_INSTALL_HINT = {
    "cuda": "pip install onnxruntime-gpu (in place of onnxruntime)",
    "tensorrt": "pip install onnxruntime-gpu with TensorRT libraries",
    "coreml": "the standard onnxruntime wheel on macOS",
    "directml": "pip install onnxruntime-directml (in place of onnxruntime)",
    "openvino": "pip install onnxruntime-openvino (in place of onnxruntime)",
}


def resolve_device(device: str | None = None) -> str:
    """The device to use: the argument, else ``$MATTEKIT_DEVICE``, else "cpu".

    Raises:
        OptionError: unknown device name.
    """
    name = (device or os.environ.get("MATTEKIT_DEVICE") or "cpu").strip().lower()
    if name not in DEVICES:
        raise OptionError(f"unknown device '{name}'; choose one of: {', '.join(DEVICES)}")
    return name


def describe_runtime() -> str:
    """One line: the onnxruntime version, the devices this build offers, the selected one,
    and the thread count (for `mattekit models list --verbose` and bug reports)."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    have = ", ".join(d for d, p in DEVICES.items() if p in available)
    chosen = resolve_device()
    return (
        f"onnxruntime {ort.__version__}; devices here: {have}; "
        f"selected: {chosen} ({DEVICES[chosen]}); threads: {thread_count()}; "
        f"memory arena: {'on' if memory_arena() else 'off'}"
    )


def thread_count() -> int:
    """Intra-op threads: ``$MATTEKIT_THREADS`` if set, else the CPUs this process may use."""
    env = os.environ.get("MATTEKIT_THREADS", "").strip()
    if env:
        try:
            value = int(env)
        except ValueError:
            value = 0
        if value < 1:
            raise OptionError(f"MATTEKIT_THREADS must be a positive integer, got '{env}'")
        return value
    return usable_cpus()


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_ON, _OFF = ("1", "on", "true", "yes"), ("", "0", "off", "false", "no")


def memory_arena() -> bool:
    """Whether sessions keep ONNX Runtime's memory arena: ``$MATTEKIT_ARENA`` on, else off.

    Off, activations are freed after every run and page-faulted in again on the next: IS-Net
    at 1024 page-faults about 1.2 GB a run. On, IS-Net ran 17-32% faster on the 2-core test
    machine but the process peaked 150-500 MB higher (24 MP at `accurate`: 1143 MB against
    about 800), so it is for machines with memory to spare.
    """
    env = os.environ.get("MATTEKIT_ARENA", "").strip().lower()
    if env not in _ON + _OFF:
        raise OptionError(f"MATTEKIT_ARENA must be on or off (1 or 0), got '{env}'")
    return env in _ON


@dataclass
class Session:
    """A loaded model: its ONNX Runtime session and the provider it really runs on."""

    name: str
    path: Path
    provider: str
    inner: onnxruntime.InferenceSession
    input_name: str
    output_names: list[str]

    def run(self, array: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        """Run the model on one input array and return all outputs."""
        try:
            outputs = self.inner.run(self.output_names, {self.input_name: array})
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"model '{self.name}' failed to run on {self.provider}: {exc}") from exc
        return [np.asarray(o) for o in outputs]

    @property
    def input_names(self) -> list[str]:
        """The names of every input the model takes, in the graph's order."""
        return [i.name for i in self.inner.get_inputs()]

    def run_named(self, feeds: dict[str, NDArray[np.float32]]) -> dict[str, NDArray[np.float32]]:
        """Run a model with several inputs (e.g. recurrent state) and return every output by name.

        Raises:
            ModelError: the model failed to run (a missing or wrongly shaped input).
        """
        try:
            outputs = self.inner.run(self.output_names, feeds)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"model '{self.name}' failed to run on {self.provider}: {exc}") from exc
        return {name: np.asarray(o) for name, o in zip(self.output_names, outputs, strict=True)}


_cache: dict[tuple[str, str, int, bool], Session] = {}
_lock = threading.Lock()


def load_session(name: str, locate: Callable[[], Path], device: str | None = None) -> Session:
    """Load (once per process) an ONNX model on a device.

    Args:
        name: the session's unique name (a model, or a model at one input size).
        locate: returns the verified model file; called only when the session is not loaded
            yet, so fetching and the sha256 check happen once per load, not once per frame.
        device: ONNX Runtime device; None for the default.

    Raises:
        ModelError: the device's provider is not available in this onnxruntime build, or the
            session could not be created on it.
    """
    device = resolve_device(device)
    threads, arena = thread_count(), memory_arena()
    key = (name, device, threads, arena)
    with _lock:
        if key not in _cache:
            _cache[key] = _create(name, locate(), device, threads, arena)
        return _cache[key]


def clear_cache() -> None:
    """Forget every loaded session (they are freed when no longer referenced)."""
    with _lock:
        _cache.clear()


def _create(name: str, path: Path, device: str, threads: int, arena: bool) -> Session:
    import onnxruntime as ort

    provider = DEVICES[device]
    available = ort.get_available_providers()
    if provider not in available:
        have = ", ".join(d for d, p in DEVICES.items() if p in available)
        raise ModelError(
            f"device '{device}' needs {provider}, which this onnxruntime build lacks "
            f"(available here: {have}); install {_INSTALL_HINT.get(device, 'a build with it')}"
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # No busy-waiting between runs: on a shared or small machine the spinning worker thread
    # slowed the glue after each model run (111 -> 62 ms after the selfie model under load).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Without ONNX Runtime's arena and planned memory pattern, activations are freed after
    # each run: the IS-Net levels peaked at 1.4 GB instead of 3.3 GB (see `memory_arena`).
    options.enable_cpu_mem_arena = arena
    options.enable_mem_pattern = False
    providers: list[Any] = [provider] if device == "cpu" else [provider, DEVICES["cpu"]]
    try:
        inner = ort.InferenceSession(str(path), sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(f"cannot load model '{name}' from {path} on {device}: {exc}") from exc
    inner.disable_fallback()
    used = inner.get_providers()[0]
    if used != provider:
        raise ModelError(
            f"device '{device}' was asked for but ONNX Runtime could only start {used} for "
            f"model '{name}'; check the {device} libraries and drivers"
        )
    return Session(
        name=name,
        path=path,
        provider=used,
        inner=inner,
        input_name=inner.get_inputs()[0].name,
        output_names=[o.name for o in inner.get_outputs()],
    )
