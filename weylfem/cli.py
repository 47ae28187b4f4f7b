"""Command-line interface: `weylfem run | sweep | plot | mesh | init | check | materials`.

Bad input prints one line ``error: FILE: KEY: what was expected`` on stderr and exits
with status 2, before anything is meshed or solved; any other failure prints one line
``error: ...`` and exits with status 1; Ctrl-C (SIGINT) and SIGTERM print one line saying
what was kept (and how to --resume it) and exit with 130 and 143.  Never a traceback.
Under mpirun only rank 0 prints; a failure on some ranks only ends the whole job
(MPI Abort) after `weylfem.collective.AGREEMENT_S`, with the failing rank's line.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import time
from pathlib import Path

from mpi4py import MPI

from weylfem import interrupts
from weylfem.collective import FailureAgreement
from weylfem.errors import ConfigError, WeylfemError, escape_controls
from weylfem.version import __version__

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1
ALLOW_LARGE_HELP = (
    "run even if the estimated mesh (cells, memory) or the number of steps exceeds the budget"
    " that `weylfem check` prints"
)


def _say(text: str, stream=sys.stdout) -> None:
    if MPI.COMM_WORLD.rank == 0:
        print(text, file=stream, flush=True)


def _load(config: str | None):
    from weylfem.config import default_device, load_device, unused_settings

    device = default_device() if config is None else load_device(config)
    for warning in unused_settings(device):
        _say(f"warning: {config or 'default device'}: {warning}", sys.stderr)
    return device


def _within_budget(device, config: str | None, allow_large: bool) -> None:
    """Refuse (ConfigError) a run beyond the budget of `weylfem.estimate`, unless allowed."""
    from weylfem.estimate import check_budget, estimate_run

    source = config or "default device"
    estimate = estimate_run(device, source)
    if not allow_large:
        check_budget(device, source, estimate)


def _run(args) -> int:
    from weylfem import compat
    from weylfem.run import run_device, summary

    device = _load(args.config)
    _within_budget(device, args.config, args.allow_large)
    args.resumable = device.dynamics is not None
    if args.resume and device.dynamics is None:
        raise ConfigError(
            args.config or "default device",
            "dynamics",
            "missing; expected a [dynamics] table with --resume (only magnetization dynamics"
            " runs are resumable)",
        )
    compat.quiet_jit_logging()
    results = run_device(
        device,
        args.out,
        resume=args.resume,
        quiet=args.quiet,
        log=_say,
        source=args.config or "default device",
    )
    _say(summary(results, setup_shown=True))
    _say(f"results written to {escape_controls(str(Path(args.out).resolve()))}")
    return 0


def _mesh(args) -> int:
    from weylfem import compat
    from weylfem.run import mesh_only, mesh_summary

    device = _load(args.config)
    _within_budget(device, args.config, args.allow_large)
    compat.quiet_jit_logging()
    _say(mesh_summary(mesh_only(device, args.out)))
    _say(f"mesh written to {escape_controls(str(Path(args.out).resolve()))}")
    return 0


def _sweep(args) -> int:
    from weylfem import compat
    from weylfem.config import parse_table, read_device_text
    from weylfem.estimate import check_budget, estimate_run
    from weylfem.sweep import SweepSpec, parse_assignment, run_sweep
    from weylfem.sweep.spec import sweep_devices

    if not args.set:
        raise ConfigError(args.config, "--set", "expected at least one --set KEY=VALUES")
    spec = SweepSpec(tuple(parse_assignment(a, args.config) for a in args.set), args.zip)
    table = parse_table(read_device_text(args.config), args.config)
    _, devices = sweep_devices(table, args.config, spec)
    if not args.allow_large:
        for device in devices:
            check_budget(device, args.config, estimate_run(device, args.config))
    args.resumable = True
    compat.quiet_jit_logging()
    logger = None if args.quiet else _say
    results = run_sweep(
        table, args.config, spec, args.out, groups=args.groups, resume=args.resume, log=logger
    )
    _say(
        f"sweep of {results['device']}: {results['points']} points"
        f" ({', '.join(results['sweep']['set'])}) on {results['groups']} group(s),"
        f" {results['meshes_built']} mesh(es), {results['time_s']:.2f} s"
    )
    _say(f"table written to {escape_controls(str(Path(args.out).resolve() / 'table.csv'))}")
    return 0


def _plot(args) -> int:
    from weylfem.output.replot import redraw

    drawn = redraw(args.out) if MPI.COMM_WORLD.rank == 0 else []
    _say(f"redrew {', '.join(drawn) or 'nothing (no plots in this output)'} in {args.out}")
    return 0


def _init(args) -> int:
    from weylfem.config import default_device_text

    path = Path(args.path)
    if path.exists() and not args.force:
        raise ConfigError(
            str(path), "(file)", "expected a path that does not exist yet (or --force)"
        )
    if MPI.COMM_WORLD.rank == 0:
        path.write_text(default_device_text())
    _say(f"wrote {path}: edit it, then `weylfem check {path}` and `weylfem run {path}`")
    return 0


def _check(args) -> int:
    from weylfem.estimate import Budget, check_budget, estimate_run

    device = _load(args.config)
    estimate = estimate_run(device, args.config)
    if not args.allow_large:
        check_budget(device, args.config, estimate)
    regions = ", ".join(f"{r} ({device.regions[r].material})" for r in device.regions)
    contacts = ", ".join(device.contacts) or "none"
    text = f"{device.geometry.kind} geometry, regions {regions}, contacts {contacts}"
    if device.dynamics is not None:
        text += (
            f"; magnetization dynamics of {', '.join(device.magnetic_regions())} to"
            f" {device.dynamics.end_time_s:g} s ({device.dynamics.steps()} steps)"
        )
    _say(f"{args.config}: ok: {device.name}: {text}")
    budget = Budget()
    within = "within" if estimate.within(budget) else "beyond (--allow-large)"
    _say(f"estimate: {estimate.describe()}; {within} the budget ({budget.describe()})")
    return 0


def _materials(args) -> int:
    from weylfem.materials import format_material, format_material_list, get_material

    if args.name is None:
        _say(format_material_list())
        return 0
    try:
        material = get_material(args.name)
    except LookupError as error:
        raise ConfigError("materials", args.name, str(error).strip("'\"")) from None
    _say(format_material(material))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `weylfem` command."""
    parser = argparse.ArgumentParser(
        prog="weylfem",
        description="Finite-element device modelling of (magnetic) Weyl semimetals.",
    )
    parser.add_argument("--version", action="version", version=f"weylfem {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="solve a device and write results")
    run.add_argument("config", nargs="?", help="device TOML file (default: the built-in device)")
    run.add_argument("--out", default="weylfem-out", help="output directory (default: %(default)s)")
    run.add_argument(
        "--resume",
        action="store_true",
        help="continue a magnetization-dynamics run in OUT from its last checkpoint",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--allow-large", action="store_true", help=ALLOW_LARGE_HELP)
    run.set_defaults(handler=_run)

    mesh = commands.add_parser("mesh", help="mesh a device; write the tagged mesh and a preview")
    mesh.add_argument("config", nargs="?", help="device TOML file (default: the built-in device)")
    mesh.add_argument(
        "--out", default="weylfem-mesh", help="output directory (default: %(default)s)"
    )
    mesh.add_argument("--allow-large", action="store_true", help=ALLOW_LARGE_HELP)
    mesh.set_defaults(handler=_mesh)

    sweep = commands.add_parser(
        "sweep",
        help="solve a steady device over values of its keys; a table of V, I and R per point",
        description="VALUES: a list a,b,c or a range START:STOP:N (N values, ends included)."
        " KEY: any dotted device key, or fields.B_T, fields.B_theta_deg (from z),"
        " fields.B_phi_deg (from x) for B in spherical coordinates (docs/device-file.md).",
    )
    sweep.add_argument("config", help="device TOML file")
    sweep.add_argument(
        "--set", action="append", metavar="KEY=VALUES", help="a swept key (repeat: a grid)"
    )
    sweep.add_argument("--zip", action="store_true", help="pair the --set values, not a grid")
    sweep.add_argument(
        "--groups", type=int, default=1, help="groups of MPI ranks solving points in parallel"
    )
    sweep.add_argument(
        "--out", default="weylfem-sweep", help="output directory (default: %(default)s)"
    )
    sweep.add_argument("--resume", action="store_true", help="continue an interrupted sweep in OUT")
    sweep.add_argument("--quiet", action="store_true", help="no progress lines")
    sweep.add_argument("--allow-large", action="store_true", help=ALLOW_LARGE_HELP)
    sweep.set_defaults(handler=_sweep)

    plot = commands.add_parser(
        "plot", help="redraw the plots of a finished run or sweep from its files"
    )
    plot.add_argument("out", help="output directory of `weylfem run` or `weylfem sweep`")
    plot.set_defaults(handler=_plot)

    init = commands.add_parser("init", help="write the default device as an annotated TOML file")
    init.add_argument("path", nargs="?", default="device.toml", help="(default: %(default)s)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(handler=_init)

    check = commands.add_parser("check", help="validate a device file without solving")
    check.add_argument("config", help="device TOML file")
    check.add_argument("--allow-large", action="store_true", help=ALLOW_LARGE_HELP)
    check.set_defaults(handler=_check)

    materials = commands.add_parser("materials", help="list materials, or show one")
    materials.add_argument("name", nargs="?", help="material name")
    materials.set_defaults(handler=_materials)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `weylfem` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    interrupts.install()
    if MPI.COMM_WORLD.size > 1:
        interrupts.hold_for_agreement()
    failures = FailureAgreement(MPI.COMM_WORLD)
    started = time.time()
    try:
        return args.handler(args)
    except (Exception, KeyboardInterrupt) as error:
        interrupts.ignore()  # one report, not cut short by a second Ctrl-C
        status, line = _describe_failure(error, args, started)
        return _fail(status, line, failures)


def _describe_failure(error: BaseException, args, started: float) -> tuple[int, str]:
    """The exit status and the one line (control characters escaped) of `error`."""
    if isinstance(error, KeyboardInterrupt):
        signum = getattr(error, "signum", signal.SIGINT)
        return 128 + signum, _interrupted(signal.Signals(signum).name, args, started)
    if isinstance(error, ConfigError):
        return EXIT_BAD_INPUT, f"error: {error}"
    if isinstance(error, WeylfemError):
        return EXIT_FAILURE, f"error: {escape_controls(str(error))}"
    if isinstance(error, OSError) and error.strerror:
        where = f"{error.filename}: " if error.filename else ""
        return EXIT_FAILURE, f"error: {escape_controls(where)}{error.strerror}"
    if isinstance(error, MemoryError):
        return EXIT_FAILURE, "error: out of memory (make the mesh coarser, or use more ranks)"
    text = " ".join(str(error).split())[:300] or "no message"
    return EXIT_FAILURE, (
        f"error: {type(error).__name__}: {escape_controls(text)} (an unexpected failure:"
        " please report it with the device file)"
    )


def _interrupted(name: str, args, started: float) -> str:
    """What an interrupted command kept, and how to continue it."""
    line = f"interrupted ({name})"
    if args.command not in ("run", "mesh", "sweep"):
        return line
    out = Path(os.path.abspath(args.out))
    if args.command == "sweep":
        running = out.with_name(f"{out.name}.running")
        if not (running / "sweep.json").is_file():
            return f"{line}: nothing kept; {escape_controls(args.out)} is unchanged"
        done = len(list(running.glob("point-*.json")))
        command = ["weylfem", "sweep", args.config, *(f"--set={a}" for a in args.set)]
        command += [*(["--zip"] if args.zip else []), "--out", args.out, "--resume"]
        return (
            f"{line}: kept {escape_controls(str(running))} ({done} points solved); continue it"
            f" with: {escape_controls(shlex.join(command))}"
        )
    checkpoint = out.with_name(f"{out.name}.running") / "checkpoint.npz"
    if args.command == "run" and checkpoint.is_file():
        import numpy as np

        try:
            with np.load(checkpoint) as data:
                step, time_s = int(data["step"]), float(data["time_s"])
            at = f" (checkpoint at step {step}, t = {time_s:g} s)"
        except (OSError, ValueError, KeyError):
            at = ""
        command = ["weylfem", "run", *([args.config] if args.config else [])]
        command += ["--out", args.out, "--resume"]
        return (
            f"{line}: kept {escape_controls(str(checkpoint.parent))}{at}; continue it with:"
            f" {escape_controls(shlex.join(command))}"
        )
    results = out / ("results.json" if args.command == "run" else "mesh.json")
    if results.is_file() and results.stat().st_mtime >= started:
        return f"{line} after writing its results to {escape_controls(str(out))}"
    why = ""
    if args.command == "run":
        resumable = getattr(args, "resumable", False)
        why = " (no checkpoint yet)" if resumable else " (only [dynamics] runs can be resumed)"
    return f"{line}: nothing kept{why}; {escape_controls(args.out)} is unchanged"


def _fail(status: int, line: str, failures: FailureAgreement) -> int:
    """Print `line` once and return `status`; under MPI, when every rank failed rank 0
    prints, otherwise the failing rank prints and ends the job (MPI Abort)."""
    world = MPI.COMM_WORLD
    if world.rank == 0:
        print(line, file=sys.stderr, flush=True)
    if failures.all_failed():
        return status
    if world.rank != 0:
        print(line, file=sys.stderr, flush=True)
    world.Abort(status)
    return status


if __name__ == "__main__":
    sys.exit(main())
